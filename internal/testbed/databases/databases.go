// Package databases starts private, real database servers for tests: PostgreSQL and MariaDB from
// Debian's packages, each with its data in a temporary directory, listening on a free loopback
// port with a password, and stopped (data removed) by Stop. Nothing here plays a database: a test
// that needs one fails when the server binaries are missing, with the package to install.
//
// Root cannot run either server as itself (initdb refuses root; mariadbd wants --user), so as root
// PostgreSQL runs as the system user "postgres" and MariaDB as "mysql", which Debian's packages
// create.
package databases

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Kind names a database engine.
type Kind string

const (
	Postgres Kind = "postgres"
	MariaDB  Kind = "mariadb"
)

// Server is a running private database server.
type Server struct {
	Kind Kind
	// Host and Port of the TCP listener (always 127.0.0.1).
	Host string
	Port int
	// User and Password of the superuser the tests connect as. The password is random per
	// server, so a test can assert it never appears in any output.
	User     string
	Password string

	dir    string
	socket string
	cmd    *exec.Cmd
	log    *bytes.Buffer
	runAs  string // system user the server runs as ("" = the current user)
	// runAsSelf starts the server binary directly although runAs is set: mariadbd drops
	// privileges itself (--user) and must be started by root for that.
	runAsSelf bool
	waitCh    chan error
}

// ErrMissing is returned when a server binary is not installed.
var ErrMissing = errors.New("database server not installed")

// PostgresBinDir is where Debian's postgresql-15 package puts its server binaries.
var PostgresBinDir = "/usr/lib/postgresql/15/bin"

// StartPostgres initialises a cluster in a temporary directory and starts it with scram-sha-256
// password authentication on a free loopback port.
func StartPostgres(ctx context.Context) (*Server, error) {
	initdb, err := lookPostgres("initdb")
	if err != nil {
		return nil, err
	}
	postgres, err := lookPostgres("postgres")
	if err != nil {
		return nil, err
	}
	s := &Server{Kind: Postgres, Host: "127.0.0.1", User: "postgres", Password: randomPassword()}
	if isRoot() {
		s.runAs = "postgres"
	}
	if err := s.makeDir("kubectl-atlas-pg-"); err != nil {
		return nil, err
	}
	pwfile := filepath.Join(s.dir, "pwfile")
	if err := s.writeOwned(pwfile, s.Password+"\n"); err != nil {
		return nil, s.fail(err)
	}
	data := filepath.Join(s.dir, "data")
	out, err := s.command(ctx, initdb, "-D", data, "-U", s.User, "--auth=scram-sha-256",
		"--pwfile="+pwfile, "-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput()
	if err != nil {
		return nil, s.fail(fmt.Errorf("initdb: %w\n%s", err, out))
	}
	if s.Port, err = freePort(); err != nil {
		return nil, s.fail(err)
	}
	s.socket = s.dir
	args := []string{"-D", data, "-p", strconv.Itoa(s.Port), "-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=" + s.dir, "-c", "fsync=off", "-c", "full_page_writes=off",
		"-c", "synchronous_commit=off", "-c", "max_connections=200"}
	if err := s.start(ctx, postgres, args...); err != nil {
		return nil, err
	}
	return s, nil
}

// StartMariaDB initialises a data directory and starts mariadbd on a free loopback port with a
// password-protected superuser "atlas" that may connect over TCP.
func StartMariaDB(ctx context.Context) (*Server, error) {
	install, err := look("mariadb-install-db", "mariadb-server")
	if err != nil {
		return nil, err
	}
	mariadbd, err := look("mariadbd", "mariadb-server")
	if err != nil {
		if mariadbd, err = lookIn("/usr/sbin/mariadbd", "mariadb-server"); err != nil {
			return nil, err
		}
	}
	client, err := look("mariadb", "mariadb-client")
	if err != nil {
		return nil, err
	}
	s := &Server{Kind: MariaDB, Host: "127.0.0.1", User: "atlas", Password: randomPassword()}
	if isRoot() {
		s.runAs = "mysql"
	}
	if err := s.makeDir("kubectl-atlas-mariadb-"); err != nil {
		return nil, err
	}
	data := filepath.Join(s.dir, "data")
	s.socket = filepath.Join(s.dir, "mysqld.sock")
	installArgs := []string{"--no-defaults", "--datadir=" + data, "--auth-root-authentication-method=socket",
		"--skip-test-db"}
	if s.runAs != "" {
		installArgs = append(installArgs, "--user="+s.runAs)
	}
	if out, err := exec.CommandContext(ctx, install, installArgs...).CombinedOutput(); err != nil {
		return nil, s.fail(fmt.Errorf("mariadb-install-db: %w\n%s", err, out))
	}
	if s.Port, err = freePort(); err != nil {
		return nil, s.fail(err)
	}
	args := []string{"--no-defaults", "--datadir=" + data, "--port=" + strconv.Itoa(s.Port),
		"--bind-address=127.0.0.1", "--socket=" + s.socket, "--pid-file=" + filepath.Join(s.dir, "mysqld.pid"),
		"--skip-log-bin", "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0"}
	if s.runAs != "" {
		args = append(args, "--user="+s.runAs)
	}
	s.runAsSelf = true
	if err := s.start(ctx, mariadbd, args...); err != nil {
		return nil, err
	}
	grant := fmt.Sprintf("CREATE USER '%[1]s'@'%%' IDENTIFIED BY '%[2]s'; CREATE USER '%[1]s'@'localhost' IDENTIFIED BY '%[2]s';"+
		" GRANT ALL ON *.* TO '%[1]s'@'%%' WITH GRANT OPTION; GRANT ALL ON *.* TO '%[1]s'@'localhost' WITH GRANT OPTION;",
		s.User, s.Password)
	if out, err := exec.CommandContext(ctx, client, "--no-defaults", "--socket="+s.socket, "-uroot", "-e", grant).CombinedOutput(); err != nil {
		return nil, s.fail(fmt.Errorf("creating the test user: %w\n%s", err, out))
	}
	return s, nil
}

// URL is the atlas/operator URL of database name on s (a schema on MariaDB), with the password.
func (s *Server) URL(name string) string {
	u := url.URL{User: url.UserPassword(s.User, s.Password), Host: net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), Path: "/" + name}
	switch s.Kind {
	case Postgres:
		u.Scheme, u.RawQuery = "postgres", "sslmode=disable"
	case MariaDB:
		u.Scheme = "maria"
	}
	return u.String()
}

// DSN is the database/sql data source name of database name for the Go driver of s's kind
// (lib/pq takes the URL; go-sql-driver/mysql its own DSN form). Driver is the driver's name.
func (s *Server) DSN(name string) (driver, dsn string) {
	if s.Kind == MariaDB {
		return "mysql", fmt.Sprintf("%s:%s@tcp(%s:%d)/%s?multiStatements=true&parseTime=true", s.User, s.Password, s.Host, s.Port, name)
	}
	return "postgres", s.URL(name)
}

// CreateDatabase creates an empty database (PostgreSQL) or schema (MariaDB) and returns its URL.
// Names are identifiers the caller picks; they are quoted but not otherwise checked.
func (s *Server) CreateDatabase(ctx context.Context, name string) (string, error) {
	if err := s.Exec(ctx, "", fmt.Sprintf("CREATE DATABASE %s", s.quote(name))); err != nil {
		return "", err
	}
	return s.URL(name), nil
}

// Exec runs SQL through the engine's own command-line client against database db ("" = the
// server's default), so the harness needs no Go driver. Output is discarded; errors carry it.
func (s *Server) Exec(ctx context.Context, db, sql string) error {
	_, err := s.Query(ctx, db, sql)
	return err
}

// Query runs SQL with the engine's command-line client and returns its unaligned, tab-separated
// output without headers, one row per line.
func (s *Server) Query(ctx context.Context, db, sql string) (string, error) {
	var cmd *exec.Cmd
	switch s.Kind {
	case Postgres:
		if db == "" {
			db = "postgres"
		}
		cmd = exec.CommandContext(ctx, "psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
			"-h", s.Host, "-p", strconv.Itoa(s.Port), "-U", s.User, "-d", db, "-c", sql)
		cmd.Env = append(os.Environ(), "PGPASSWORD="+s.Password)
	case MariaDB:
		args := []string{"--no-defaults", "-h", s.Host, "-P", strconv.Itoa(s.Port), "-u", s.User, "-N", "-B", "-e", sql}
		if db != "" {
			args = append(args, db)
		}
		cmd = exec.CommandContext(ctx, "mariadb", args...)
		cmd.Env = append(os.Environ(), "MYSQL_PWD="+s.Password)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %q: %w: %s", s.Kind, sql, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimRight(stdout.String(), "\n"), nil
}

// Tables lists the base tables of database db (PostgreSQL: schema public), sorted.
func (s *Server) Tables(ctx context.Context, db string) ([]string, error) {
	q := "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
	if s.Kind == MariaDB {
		q = fmt.Sprintf("SELECT table_name FROM information_schema.tables WHERE table_schema = '%s' AND table_type = 'BASE TABLE' ORDER BY 1", db)
	}
	out, err := s.Query(ctx, db, q)
	if err != nil || out == "" {
		return nil, err
	}
	return strings.Split(out, "\n"), nil
}

// Stop stops the server and removes its data directory.
func (s *Server) Stop() error {
	if s == nil {
		return nil
	}
	var err error
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM) // PostgreSQL: smart shutdown; MariaDB: normal
		select {
		case <-s.waitCh:
		case <-time.After(2 * time.Minute):
			_ = s.cmd.Process.Kill()
			<-s.waitCh
			err = fmt.Errorf("%s did not stop within 2 min; killed", s.Kind)
		}
	}
	if rmErr := os.RemoveAll(s.dir); rmErr != nil && err == nil {
		err = rmErr
	}
	return err
}

// Log is what the server printed so far, for a failing test's message.
func (s *Server) Log() string { return s.log.String() }

func (s *Server) quote(name string) string {
	if s.Kind == MariaDB {
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// start runs the server in the background and waits until it accepts TCP connections.
func (s *Server) start(ctx context.Context, bin string, args ...string) error {
	s.log = &bytes.Buffer{}
	if s.runAsSelf {
		s.cmd = exec.Command(bin, args...)
	} else {
		s.cmd = s.command(context.Background(), bin, args...)
	}
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	// Its own process group: a Ctrl-C to the test binary must not kill it before Stop runs.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return s.fail(fmt.Errorf("starting %s: %w", bin, err))
	}
	s.waitCh = make(chan error, 1)
	go func() { s.waitCh <- s.cmd.Wait() }()
	deadline := time.Now().Add(5 * time.Minute) // a hang guard: a busy machine is slow, not broken
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = conn.Close()
			return s.waitReady(ctx, deadline)
		}
		select {
		case werr := <-s.waitCh:
			s.cmd = nil
			return s.fail(fmt.Errorf("%s exited during start-up: %v\n%s", s.Kind, werr, s.log.String()))
		case <-ctx.Done():
			return s.fail(ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return s.fail(fmt.Errorf("%s not listening on %s after 5 min:\n%s", s.Kind, addr, s.log.String()))
		}
	}
}

// waitReady waits until the server answers a query: PostgreSQL listens before it accepts
// connections ("the database system is starting up").
func (s *Server) waitReady(ctx context.Context, deadline time.Time) error {
	if s.Kind != Postgres {
		return nil
	}
	for {
		_, err := s.Query(ctx, "", "SELECT 1")
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return s.fail(fmt.Errorf("postgres not ready: %v\n%s", err, s.log.String()))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// command builds a command that runs as s.runAs when set (runuser, as root).
func (s *Server) command(ctx context.Context, bin string, args ...string) *exec.Cmd {
	if s.runAs == "" {
		return exec.CommandContext(ctx, bin, args...)
	}
	return exec.CommandContext(ctx, "runuser", append([]string{"-u", s.runAs, "--", bin}, args...)...)
}

func (s *Server) makeDir(prefix string) error {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return err
	}
	s.dir = dir
	return s.chown(dir)
}

func (s *Server) writeOwned(path, content string) error {
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return err
	}
	return s.chown(path)
}

func (s *Server) chown(path string) error {
	if s.runAs == "" {
		return nil
	}
	u, err := user.Lookup(s.runAs)
	if err != nil {
		return fmt.Errorf("system user %q (created by the %s package): %w", s.runAs, s.Kind, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(path, uid, gid)
}

// fail removes what was made and returns err.
func (s *Server) fail(err error) error {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		<-s.waitCh
		s.cmd = nil
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
	return err
}

func lookPostgres(name string) (string, error) {
	return lookIn(filepath.Join(PostgresBinDir, name), "postgresql")
}

func lookIn(path, pkg string) (string, error) {
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%w: %s not found; install Debian's %s package (apt-get install %s)", ErrMissing, path, pkg, pkg)
	}
	return path, nil
}

func look(name, pkg string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: %s not on PATH; install Debian's %s package (apt-get install %s)", ErrMissing, name, pkg, pkg)
	}
	return p, nil
}

func isRoot() bool { return os.Geteuid() == 0 }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "pw-" + hex.EncodeToString(b)
}

// SQLite is a database file queried with Debian's sqlite3 command-line client (package
// sqlite3), so tests need no cgo driver. The file need not exist yet.
type SQLite struct{ Path string }

// URL is the atlas/operator URL of the file (sqlite:///abs/path).
func (s SQLite) URL() string { return "sqlite://" + s.Path }

// Query runs SQL and returns the rows, tab-separated, one per line.
func (s SQLite) Query(ctx context.Context, sql string) (string, error) {
	bin, err := look("sqlite3", "sqlite3")
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, bin, "-batch", "-bail", "-noheader", "-separator", "\t", s.Path, sql)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("sqlite3 %s %q: %w: %s", s.Path, sql, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimRight(stdout.String(), "\n"), nil
}

// Tables lists the tables of the file, sorted, without SQLite's own (sqlite_*).
func (s SQLite) Tables(ctx context.Context) ([]string, error) {
	out, err := s.Query(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1")
	if err != nil || out == "" {
		return nil, err
	}
	return strings.Split(out, "\n"), nil
}
