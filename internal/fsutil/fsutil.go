// Package fsutil writes generated folders so that a failure never leaves a half-written result
// and nothing a user has is overwritten unless they asked for it.
package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
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
// Every write and rename goes through an os.Root at dir's parent, so a symbolic link inside dir
// (a checked-out repository may hold one) cannot carry a write out of that folder.
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
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(parent)
	if err != nil {
		return err
	}
	defer root.Close()
	// out names dir inside root; paths below are slash-separated (os.Root takes either).
	out := filepath.Base(filepath.Clean(dir))
	if exists {
		var clash []string
		for _, f := range files {
			if fi, err := root.Lstat(path.Join(out, f.Path)); err == nil {
				if fi.IsDir() {
					return fmt.Errorf("%s is a directory where a file must be written: move it away", filepath.Join(dir, filepath.FromSlash(f.Path)))
				}
				clash = append(clash, f.Path)
			}
		}
		if len(clash) > 0 && !force {
			sort.Strings(clash)
			return &ExistsError{Dir: dir, Files: clash}
		}
	}

	stagePath, err := os.MkdirTemp(parent, "."+out+".tmp-")
	if err != nil {
		return fmt.Errorf("creating a staging folder beside %s: %w", dir, err)
	}
	stage := filepath.Base(stagePath)
	defer func() {
		if rmErr := root.RemoveAll(stage); rmErr != nil && err == nil && exists {
			err = rmErr
		}
	}()
	for _, f := range files {
		if err := writeSynced(root, path.Join(stage, f.Path), f.Data); err != nil {
			return err
		}
	}
	if !exists {
		if err := root.Chmod(stage, 0o755); err != nil {
			return err
		}
		if err := root.Rename(stage, out); err != nil {
			return fmt.Errorf("moving the new folder into place at %s: %w", dir, err)
		}
		return nil
	}
	return swapIn(root, dir, out, stage, files)
}

// swapIn moves staged files over their targets in out (dir, inside root), restoring everything
// on failure.
func swapIn(root *os.Root, dir, out, stage string, files []File) error {
	backup := path.Join(stage, ".backup")
	type moved struct{ target, backup string }
	var done []moved
	var created, createdDirs []string
	rollback := func() {
		for i := len(done) - 1; i >= 0; i-- {
			_ = root.Rename(done[i].backup, done[i].target)
		}
		for _, c := range created {
			_ = root.Remove(c)
		}
		for i := len(createdDirs) - 1; i >= 0; i-- {
			_ = root.Remove(createdDirs[i]) // only succeeds when empty
		}
	}
	for i, f := range files {
		target := path.Join(out, f.Path)
		shown := filepath.Join(dir, filepath.FromSlash(f.Path))
		if _, err := root.Stat(path.Dir(target)); errors.Is(err, fs.ErrNotExist) {
			createdDirs = append(createdDirs, path.Dir(target))
		}
		if err := root.MkdirAll(path.Dir(target), 0o755); err != nil {
			rollback()
			return err
		}
		if _, err := root.Lstat(target); err == nil {
			b := path.Join(backup, fmt.Sprint(i))
			if err := root.MkdirAll(backup, 0o700); err != nil {
				rollback()
				return err
			}
			if err := root.Rename(target, b); err != nil {
				rollback()
				return fmt.Errorf("replacing %s: %w", shown, err)
			}
			done = append(done, moved{target: target, backup: b})
		} else {
			created = append(created, target)
		}
		if err := root.Rename(path.Join(stage, f.Path), target); err != nil {
			rollback()
			return fmt.Errorf("writing %s: %w", shown, err)
		}
	}
	return nil
}

// writeSynced creates name inside root (a new file: O_EXCL) and syncs it.
func writeSynced(root *os.Root, name string, data []byte) error {
	if err := root.MkdirAll(path.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
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
