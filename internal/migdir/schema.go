package migdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// ReadSchemaFile reads a declarative schema file (one .sql or .hcl file) with the checks every
// entry point makes: it exists, is a file, is not empty, is UTF-8. shown is the path as the user
// wrote it; field names what took it ("--schema", "spec.schema") and dirAlt what to use for a
// migration directory instead, so the error says how to fix it.
func ReadSchemaFile(path, shown, field, dirAlt string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("schema file %s does not exist", shown)
		}
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory: %s takes one .sql or .hcl file (use %s for a migration directory)", shown, field, dirAlt)
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
