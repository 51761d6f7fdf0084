// Package fsutil writes generated folders so that a failure never leaves a half-written result
// and nothing a user has is overwritten unless they asked for it.
package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// File is one file to write; Path is slash-separated and relative to the folder.
type File struct {
	Path string
	Data []byte
}

// ExistsError lists the files that would be overwritten.
type ExistsError struct {
	Dir   string
	Files []string
}

func (e *ExistsError) Error() string {
	shown := e.Files
	more := ""
	if len(shown) > 5 {
		more = fmt.Sprintf(" and %d more", len(shown)-5)
		shown = shown[:5]
	}
	return fmt.Sprintf("%s already holds %s%s", e.Dir, strings.Join(shown, ", "), more)
}

// NotDirError is a folder path that names something else than a folder.
type NotDirError struct {
	Dir string
}

func (e *NotDirError) Error() string { return e.Dir + " exists and is not a directory" }

// WriteFolder writes files under dir. Every file is first written and synced in a staging
// folder beside dir (same file system), then moved into place by rename:
//   - when dir does not exist, the whole staging folder is renamed to dir in one step;
//   - otherwise each file is renamed over its target, and if one rename fails the files already
//     moved are restored from backups, so dir is left as it was.
//
// Without force, any existing target file is an *ExistsError and nothing is written; a dir that
// is not a folder is a *NotDirError. The caller says how to overwrite or choose another folder.
func WriteFolder(dir string, files []File, force bool) (err error) {
	if len(files) == 0 {
		return errors.New("nothing to write")
	}
	for _, f := range files {
		if !filepath.IsLocal(filepath.FromSlash(f.Path)) { // "", absolute, or escaping through ..
			return fmt.Errorf("refusing to write %q outside %s", f.Path, dir)
		}
	}
	st, statErr := os.Stat(dir)
	exists := statErr == nil
	switch {
	case exists && !st.IsDir():
		return &NotDirError{Dir: dir}
	case statErr != nil && !errors.Is(statErr, fs.ErrNotExist):
		return statErr
	}
	if exists {
		var clash []string
		for _, f := range files {
			target := filepath.Join(dir, filepath.FromSlash(f.Path))
			if fi, err := os.Lstat(target); err == nil {
				if fi.IsDir() {
					return fmt.Errorf("%s is a directory where a file must be written: move it away", target)
				}
				clash = append(clash, f.Path)
			}
		}
		if len(clash) > 0 && !force {
			sort.Strings(clash)
			return &ExistsError{Dir: dir, Files: clash}
		}
	}

	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	stage, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("creating a staging folder beside %s: %w", dir, err)
	}
	defer func() {
		if rmErr := os.RemoveAll(stage); rmErr != nil && err == nil && exists {
			err = rmErr
		}
	}()
	for _, f := range files {
		if err := writeSynced(filepath.Join(stage, filepath.FromSlash(f.Path)), f.Data); err != nil {
			return err
		}
	}
	if !exists {
		if err := os.Chmod(stage, 0o755); err != nil {
			return err
		}
		if err := os.Rename(stage, dir); err != nil {
			return fmt.Errorf("moving the new folder into place at %s: %w", dir, err)
		}
		return nil
	}
	return swapIn(dir, stage, files)
}

// swapIn moves staged files over their targets in dir, restoring everything on failure.
func swapIn(dir, stage string, files []File) error {
	backup := filepath.Join(stage, ".backup")
	type moved struct{ target, backup string }
	var done []moved
	var created, createdDirs []string
	rollback := func() {
		for i := len(done) - 1; i >= 0; i-- {
			_ = os.Rename(done[i].backup, done[i].target)
		}
		for _, c := range created {
			_ = os.Remove(c)
		}
		for i := len(createdDirs) - 1; i >= 0; i-- {
			_ = os.Remove(createdDirs[i]) // only succeeds when empty
		}
	}
	for i, f := range files {
		rel := filepath.FromSlash(f.Path)
		target := filepath.Join(dir, rel)
		if _, err := os.Stat(filepath.Dir(target)); errors.Is(err, fs.ErrNotExist) {
			createdDirs = append(createdDirs, filepath.Dir(target))
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			rollback()
			return err
		}
		if _, err := os.Lstat(target); err == nil {
			b := filepath.Join(backup, fmt.Sprint(i))
			if err := os.MkdirAll(backup, 0o700); err != nil {
				rollback()
				return err
			}
			if err := os.Rename(target, b); err != nil {
				rollback()
				return fmt.Errorf("replacing %s: %w", target, err)
			}
			done = append(done, moved{target: target, backup: b})
		} else {
			created = append(created, target)
		}
		if err := os.Rename(filepath.Join(stage, rel), target); err != nil {
			rollback()
			return fmt.Errorf("writing %s: %w", target, err)
		}
	}
	return nil
}

func writeSynced(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// WriteFile writes one file atomically: the data goes to a temporary file beside path, is
// synced, and then takes path's place in one step, so a reader never sees half a file and a
// failure leaves nothing behind. Without force an existing path is an *ExistsError and is left
// as it was (also when it appears while the data is written).
func WriteFile(path string, data []byte, force bool) (err error) {
	dir, base := filepath.Split(filepath.Clean(path))
	if dir == "" {
		dir = "."
	}
	if fi, err := os.Stat(path); err == nil {
		if fi.IsDir() {
			return fmt.Errorf("%s is a directory: name a file", path)
		}
		if !force {
			return &ExistsError{Dir: dir, Files: []string{base}}
		}
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err != nil {
		return err
	}
	if force {
		return os.Rename(tmp.Name(), path)
	}
	// a hard link never replaces an existing file: what appeared meanwhile is kept
	if err = os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return &ExistsError{Dir: dir, Files: []string{base}}
		}
		return err
	}
	return os.Remove(tmp.Name())
}
