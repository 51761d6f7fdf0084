package migdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// ReadSchemaFile reads a declarative schema file (one .sql or .hcl file) with the checks every
// entry point makes: it exists, is a file (a *SchemaDirError otherwise), is not empty, is UTF-8.
// shown is the path as the user wrote it, which the errors name.
func ReadSchemaFile(path, shown string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("schema file %s does not exist", shown)
		}
		return nil, err
	}
	if st.IsDir() {
		return nil, &SchemaDirError{Path: shown}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil, fmt.Errorf("schema file %s is empty", shown)
	}
	if err := CheckText(shown, b); err != nil {
		return nil, err
	}
	return b, nil
}

// SchemaDirError is a directory given where a schema file belongs: the caller says how to give
// a migration directory instead.
type SchemaDirError struct {
	Path string
}

func (e *SchemaDirError) Error() string { return e.Path + " is a directory" }
