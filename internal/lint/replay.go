package lint

import (
	"context"
	"errors"
	"fmt"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlcheck"
	"ariga.io/atlas/sql/sqlclient"
)

// replayer computes each file's schema changes on the dev database, as atlas's DevLoader: take
// a lock, snapshot the dev database (restored at the end), replay the base files, then run each
// new file statement by statement, inspecting the schema after each statement and diffing it
// with the schema before. A first file on an empty base with more than maxStmtLoop statements
// (a baseline) is run whole and diffed once, as atlas does to keep big baselines fast.
type replayer struct {
	dev *sqlclient.Client
}

// maxStmtLoop is atlas's limit of per-statement cycles for a baseline file.
const maxStmtLoop = 10

// fileErr is a replay error in a (converted) file at a statement position.
type fileErr struct {
	name string
	pos  int
	err  error
}

func (e *fileErr) Error() string { return fmt.Sprintf("%s: %v", e.name, e.err) }
func (e *fileErr) Unwrap() error { return e.err }

// resolve names the file the user edits and the line.
func (e *fileErr) resolve(files []*file) error {
	for _, f := range files {
		if f.Name() == e.name {
			line := 0
			if e.pos >= 0 {
				line = f.line(e.pos)
			}
			return &FileError{File: f.Source, Line: line, Err: e.err}
		}
	}
	return &FileError{File: e.name, Err: e.err}
}

func (r *replayer) load(ctx context.Context, base, files []migrate.File) (out []*sqlcheck.File, err error) {
	name := "atlas_lint"
	if s := r.dev.URL.Schema; s != "" {
		name = fmt.Sprintf("%s_%s", name, s)
	}
	unlock, err := r.dev.Driver.Lock(ctx, name, 0)
	if err != nil {
		return nil, fmt.Errorf("acquiring database lock: %w", err)
	}
	defer unlock()
	restore, err := r.dev.Driver.Snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("taking database snapshot: %w", err)
	}
	defer func() {
		if err2 := restore(ctx); err2 != nil {
			err = errors.Join(err, fmt.Errorf("restore dev-database snapshot: %w", err2))
		}
	}()
	current, err := r.base(ctx, base)
	if err != nil {
		return nil, err
	}
	out = make([]*sqlcheck.File, len(files))
	var checkpoints []int
	for i, f := range files {
		out[i] = &sqlcheck.File{File: f, From: current}
		if ck, ok := f.(migrate.CheckpointFile); ok && ck.IsCheckpoint() {
			checkpoints = append(checkpoints, i)
			continue
		}
		stmts, err := r.stmts(f)
		if err != nil {
			return nil, err
		}
		if len(base) == 0 && i == 0 && len(stmts) > maxStmtLoop {
			current, err = r.whole(ctx, out[i], stmts, current)
		} else {
			current, err = r.each(ctx, out[i], stmts, current)
		}
		if err != nil {
			return nil, err
		}
		out[i].To = current
	}
	// A checkpoint file stands for the whole history: replayed on the clean dev database.
	for _, i := range checkpoints {
		if err := restore(ctx); err != nil {
			return nil, err
		}
		clean, err := r.inspect(ctx)
		if err != nil {
			return nil, err
		}
		stmts, err := r.stmts(out[i].File)
		if err != nil {
			return nil, err
		}
		if _, err := r.each(ctx, out[i], stmts, clean); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// base replays the files before the analysed ones, from the last checkpoint on.
func (r *replayer) base(ctx context.Context, base []migrate.File) (*schema.Realm, error) {
	if i := migrate.FilesLastIndex(base, func(f migrate.File) bool {
		ck, ok := f.(migrate.CheckpointFile)
		return ok && ck.IsCheckpoint()
	}); i != -1 {
		base = base[i:]
	}
	for _, f := range base {
		stmts, err := r.stmts(f)
		if err != nil {
			return nil, err
		}
		for _, s := range stmts {
			if _, err := r.dev.ExecContext(ctx, s.Text); err != nil {
				return nil, &fileErr{name: f.Name(), pos: s.Pos, err: fmt.Errorf("executing statement: %w", err)}
			}
		}
	}
	return r.inspect(ctx)
}

// whole runs every statement, then diffs once: one change set at the beginning of the file.
func (r *replayer) whole(ctx context.Context, f *sqlcheck.File, stmts []*migrate.Stmt, start *schema.Realm) (*schema.Realm, error) {
	for _, s := range stmts {
		if _, err := r.dev.ExecContext(ctx, s.Text); err != nil {
			return nil, &fileErr{name: f.Name(), pos: s.Pos, err: fmt.Errorf("executing statement: %s: %w", s.Text, err)}
		}
	}
	current, err := r.inspect(ctx)
	if err != nil {
		return nil, err
	}
	changes, err := r.dev.RealmDiff(start, current)
	if err != nil {
		return nil, err
	}
	f.Changes = append(f.Changes, &sqlcheck.Change{Changes: changes, Stmt: &migrate.Stmt{Pos: 0}})
	f.Sum = changes
	return current, nil
}

// each runs the statements one by one, attaching each statement's changes to the file.
func (r *replayer) each(ctx context.Context, f *sqlcheck.File, stmts []*migrate.Stmt, start *schema.Realm) (*schema.Realm, error) {
	current := start
	for _, s := range stmts {
		if _, err := r.dev.ExecContext(ctx, s.Text); err != nil {
			return nil, &fileErr{name: f.Name(), pos: s.Pos, err: fmt.Errorf("executing statement: %s: %w", s.Text, err)}
		}
		next, err := r.inspect(ctx)
		if err != nil {
			return nil, err
		}
		changes, err := r.dev.RealmDiff(current, next)
		if err != nil {
			return nil, err
		}
		current = next
		f.Changes = append(f.Changes, &sqlcheck.Change{Stmt: s, Changes: changes})
	}
	var err error
	if f.Sum, err = r.dev.RealmDiff(start, current); err != nil {
		return nil, err
	}
	return current, nil
}

// stmts splits a file with the dev database's own scanner (dialect-aware, honouring
// -- atlas:delimiter).
func (r *replayer) stmts(f migrate.File) ([]*migrate.Stmt, error) {
	stmts, err := migrate.FileStmtDecls(r.dev.Driver, f)
	if err != nil {
		return nil, &fileErr{name: f.Name(), pos: -1, err: fmt.Errorf("scanning statements: %w", err)}
	}
	return stmts, nil
}

// inspect reads the realm, or only the URL's schema when the dev URL names one.
func (r *replayer) inspect(ctx context.Context) (*schema.Realm, error) {
	if r.dev.URL.Schema == "" {
		return r.dev.InspectRealm(ctx, &schema.InspectRealmOption{})
	}
	ns, err := r.dev.InspectSchema(ctx, "", &schema.InspectOptions{})
	if err != nil {
		return nil, err
	}
	if ns.Name == "" {
		ns.Name = r.dev.URL.Schema
	}
	if ns.Realm == nil {
		ns.Realm = schema.NewRealm(ns)
	}
	return ns.Realm, nil
}
