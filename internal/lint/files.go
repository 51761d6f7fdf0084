package lint

import (
	"bytes"
	"os"
	"path/filepath"

	"ariga.io/atlas/sql/migrate"

	"github.com/kubectl-atlas/kubectl-atlas/internal/migdir"
)

// file is one migration file as atlas reads it, with the file the user edits behind it.
type file struct {
	*migrate.LocalFile
	// Source is the file the user edits, relative to the directory.
	Source string
	// src is Source's content when the directory was converted (nil in atlas format, where the
	// file is its own source).
	src []byte
}

// loadFiles turns the directory's files into atlas files, in apply order. The original files
// of a converted directory are read back from disk (migdir keeps them private) to report lines
// in them; a file that cannot be read reports no line rather than a wrong one.
func loadFiles(d *migdir.Dir) ([]*file, error) {
	out := make([]*file, 0, len(d.Files))
	for _, f := range d.Files {
		if f.Name == migdir.SumFile {
			continue
		}
		x := &file{LocalFile: migrate.NewLocalFile(f.Name, f.Data), Source: f.Source}
		if x.Source == "" {
			x.Source = f.Name
		}
		if d.Format != migdir.FormatAtlas {
			x.src = []byte{}
			if d.Path != "" {
				if b, err := os.ReadFile(filepath.Join(d.Path, filepath.FromSlash(x.Source))); err == nil {
					x.src = b
				}
			}
		}
		out = append(out, x)
	}
	return out, nil
}

// line returns the 1-based line of position pos of the (converted) file in the file the user
// edits, 0 when it cannot be located. A converted file holds the tool's statements in the
// tool's order, with lines added (directives) or dropped (down sections, BEGIN/COMMIT) around
// them: the statement's first line is looked up in the original, counting how many identical
// lines come before it so repeated statements map to the right occurrence.
func (f *file) line(pos int) int {
	data := f.Bytes()
	if pos < 0 || pos > len(data) {
		return 0
	}
	if f.src == nil {
		return 1 + bytes.Count(data[:pos], []byte("\n"))
	}
	if pos == 0 {
		return 1 // a whole file analysed at once (atlas: the beginning of the file)
	}
	end := bytes.IndexByte(data[pos:], '\n')
	if end < 0 {
		end = len(data) - pos
	}
	key := bytes.TrimSpace(data[pos : pos+end])
	if len(key) == 0 {
		return 0
	}
	nth := bytes.Count(data[:pos], key)
	at := 0
	for i := 0; ; i++ {
		j := bytes.Index(f.src[at:], key)
		if j < 0 {
			return 0
		}
		if i == nth {
			return 1 + bytes.Count(f.src[:at+j], []byte("\n"))
		}
		at += j + len(key)
	}
}
