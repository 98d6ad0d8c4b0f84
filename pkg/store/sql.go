package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // driver "sqlite"
)

//go:embed migrations
var migrations embed.FS

// sqlStore implements Store over database/sql for SQLite and PostgreSQL.
type sqlStore struct {
	w, r   *sql.DB // writes and reads; the same pool on PostgreSQL
	pg     bool
	ws, rs stmts // prepared statements of each pool
}

// stmts caches prepared statements by query text: parsing SQL was a
// visible share of issuance time.
type stmts struct {
	db *sql.DB
	m  sync.Map // string -> *sql.Stmt
}

func (c *stmts) get(ctx context.Context, query string) (*sql.Stmt, error) {
	if v, ok := c.m.Load(query); ok {
		return v.(*sql.Stmt), nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, mapErr(err)
	}
	if v, loaded := c.m.LoadOrStore(query, st); loaded {
		st.Close()
		return v.(*sql.Stmt), nil
	}
	return st, nil
}

func (c *stmts) close() {
	c.m.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
}

// exec runs a write outside a transaction.
func (s *sqlStore) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := s.ws.get(ctx, s.q(query))
	if err != nil {
		return nil, err
	}
	res, err := st.ExecContext(ctx, args...)
	return res, mapErr(err)
}

// prepare returns the cached write statements for queries. Transactions
// call it before they begin: on SQLite the transaction holds the only
// write connection, so preparing inside it would wait for itself.
func (s *sqlStore) prepare(ctx context.Context, queries ...string) ([]*sql.Stmt, error) {
	out := make([]*sql.Stmt, len(queries))
	for i, q := range queries {
		st, err := s.ws.get(ctx, s.q(q))
		if err != nil {
			return nil, err
		}
		out[i] = st
	}
	return out, nil
}

// txExec runs a prepared write statement inside tx.
func txExec(ctx context.Context, tx *sql.Tx, st *sql.Stmt, args ...any) (sql.Result, error) {
	res, err := tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	return res, mapErr(err)
}

// queryRow runs a single-row read; a statement error surfaces from Scan.
func (s *sqlStore) queryRow(ctx context.Context, pool *stmts, query string, args ...any) rowScanner {
	st, err := pool.get(ctx, s.q(query))
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// query runs a multi-row read.
func (s *sqlStore) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := s.rs.get(ctx, s.q(query))
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	return rows, mapErr(err)
}

type rowScanner interface{ Scan(...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// Open opens the database named by url and applies pending migrations:
// "sqlite:PATH" for a SQLite file (created if missing) or
// "postgres://..." / "postgresql://..." for PostgreSQL (a search_path
// parameter in the URL selects the schema).
func Open(ctx context.Context, url string) (Store, error) {
	s, err := open(url)
	if err != nil {
		return nil, err
	}
	if _, err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Migrate applies pending migrations to the database named by url and
// returns the versions it applied.
func Migrate(ctx context.Context, url string) ([]string, error) {
	s, err := open(url)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.migrate(ctx)
}

func open(url string) (*sqlStore, error) {
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(url, "sqlite:")
		if path == "" || strings.ContainsAny(path, "?#") {
			return nil, fmt.Errorf("store: sqlite url %q must name a file", url)
		}
		// SQLite decodes %HH in a file: URI; a literal % must be escaped.
		path = strings.ReplaceAll(path, "%", "%25")
		const pragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"
		w, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_txlock=immediate")
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
		// SQLite has one writer: a single write connection queues writers
		// in Go instead of spinning on SQLITE_BUSY; readers use WAL snapshots
		// on their own pool.
		w.SetMaxOpenConns(1)
		r, err := sql.Open("sqlite", "file:"+path+"?"+pragmas)
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
		r.SetMaxOpenConns(8)
		r.SetMaxIdleConns(8)
		return newSQLStore(w, r, false), nil
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		db, err := sql.Open("pgx", url)
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(32)
		db.SetConnMaxIdleTime(5 * time.Minute)
		return newSQLStore(db, db, true), nil
	}
	return nil, fmt.Errorf("store: unsupported database url (want sqlite:FILE or postgres://...)")
}

func newSQLStore(w, r *sql.DB, pg bool) *sqlStore {
	s := &sqlStore{w: w, r: r, pg: pg}
	s.ws.db, s.rs.db = w, r
	return s
}

func (s *sqlStore) migrate(ctx context.Context) ([]string, error) {
	dialect, dir := goose.DialectSQLite3, "migrations/sqlite"
	var opts []goose.ProviderOption
	if s.pg {
		dialect, dir = goose.DialectPostgres, "migrations/postgres"
		// Two replicas starting at once take turns; the loser probes every
		// second (goose's default is every 5 s) for up to 5 minutes. The
		// advisory lock is per database, so its id is derived from the
		// schema: deployments and test runs in other schemas do not wait.
		var schema sql.NullString
		if err := s.w.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return nil, fmt.Errorf("store: migrate: %w", err)
		}
		id := lock.DefaultLockID
		if schema.Valid {
			h := fnv.New64a()
			h.Write([]byte("yagona goose " + schema.String))
			id = int64(h.Sum64())
		}
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(id), lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, fmt.Errorf("store: migrate: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	sub, err := fs.Sub(migrations, dir)
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	p, err := goose.NewProvider(dialect, s.w, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	applied := make([]string, 0, len(res))
	for _, r := range res {
		applied = append(applied, r.Source.Path)
	}
	return applied, nil
}

// q rewrites ? placeholders to $n for PostgreSQL. Queries here never hold
// a literal question mark.
func (s *sqlStore) q(query string) string {
	if !s.pg {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// mapErr turns driver errors into the package sentinels.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	for _, known := range []error{ErrNotFound, ErrAlreadyExists, ErrConflict, ErrReused, ErrUnavailable, ErrInvalid} {
		if errors.Is(err, known) {
			return err // mapped already
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return fmt.Errorf("%w: %s", ErrAlreadyExists, pgErr.ConstraintName)
		case "23503":
			return fmt.Errorf("%w: %s", ErrNotFound, pgErr.ConstraintName)
		}
	}
	var sqliteErr interface{ Code() int }
	if errors.As(err, &sqliteErr) {
		switch sqliteErr.Code() {
		case 1555, 2067: // SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE
			return fmt.Errorf("%w: %v", ErrAlreadyExists, err)
		case 787: // SQLITE_CONSTRAINT_FOREIGNKEY
			return fmt.Errorf("%w: %v", ErrNotFound, err)
		}
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

func (s *sqlStore) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

func (s *sqlStore) Close() error {
	s.ws.close()
	s.rs.close()
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// inTx runs fn in a write transaction, rolling back on error.
func (s *sqlStore) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return mapErr(tx.Commit())
}
