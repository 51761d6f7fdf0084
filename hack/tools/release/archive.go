package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// WriteArchive packs files (flat, by base name) into a .tar.gz or .zip at out. Entries carry a
// fixed time, owner and mode (0755 for executables, 0644 otherwise) so that the same inputs give
// the same bytes, and so the same sha256 in the krew manifest.
func WriteArchive(out string, mtime time.Time, files []string) error {
	tmp, err := os.CreateTemp(filepath.Dir(out), ".archive-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	switch {
	case strings.HasSuffix(out, ".tar.gz"):
		err = writeTarGz(tmp, mtime, files)
	case strings.HasSuffix(out, ".zip"):
		err = writeZip(tmp, mtime, files)
	default:
		err = fmt.Errorf("%s: archive name must end in .tar.gz or .zip", out)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

type entry struct {
	name string
	mode int64
	data []byte
}

func readEntries(files []string) ([]entry, error) {
	seen := map[string]bool{}
	var out []entry
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return nil, err
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: not a regular file", f)
		}
		name := filepath.Base(f)
		if seen[name] {
			return nil, fmt.Errorf("%s: two files named %s", f, name)
		}
		seen[name] = true
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		mode := int64(0o644)
		if st.Mode().Perm()&0o111 != 0 {
			mode = 0o755
		}
		out = append(out, entry{name: name, mode: mode, data: b})
	}
	return out, nil
}

func writeTarGz(w io.Writer, mtime time.Time, files []string) error {
	entries, err := readEntries(files)
	if err != nil {
		return err
	}
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	gz.ModTime = mtime // the gzip header, not the wall clock
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: e.mode, Size: int64(len(e.data)), ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(e.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func writeZip(w io.Writer, mtime time.Time, files []string) error {
	entries, err := readEntries(files)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	for _, e := range entries {
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: mtime}
		hdr.SetMode(os.FileMode(e.mode))
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		if _, err := fw.Write(e.data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// writeFileAtomic writes through a temporary file in the same directory, so a failure never
// leaves a half-written manifest behind.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	if path == "" {
		return fmt.Errorf("no output file given")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), perm); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
