package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/parcours/parcours/internal/keys"
	"github.com/parcours/parcours/internal/phone"
	"github.com/parcours/parcours/internal/tcf"
)

// ErrStatement is user SQL refused before it runs.
var ErrStatement = errors.New("statement refused")

// Sandbox returns a dedicated connection for user SQL: the pseudonym
// function is a Go function (a SQL macro would show the pepper in
// duckdb_functions()), and the engine is locked down by _sandbox.sql so
// the statement can read files only under allowedDirs. Open the
// warehouse with Options.UserSQL so no connection carries the secret
// macros. Settings are per database: use this warehouse for nothing else.
func (w *Warehouse) Sandbox(ctx context.Context, allowedDirs []string) (*sql.Conn, error) {
	if !w.userSQL {
		return nil, errors.New("sandbox: the warehouse was not opened for user SQL (Options.UserSQL)")
	}
	conn, err := w.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*sql.Conn, error) {
		conn.Close()
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	if w.Secrets != nil && w.Secrets.Pepper != nil {
		if err := duckdb.RegisterScalarUDF(conn, "pseudonym", pseudonymUDF{pepper: w.Secrets.Pepper}); err != nil {
			return fail(err)
		}
	}
	dirs := make([]string, 0, len(allowedDirs))
	for _, d := range allowedDirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return fail(err)
		}
		dirs = append(dirs, Quote(strings.TrimSuffix(abs, "/")+"/"))
	}
	body, err := w.SQL.Section("_sandbox.sql", "lock")
	if err != nil {
		return fail(err)
	}
	body = strings.ReplaceAll(body, "{{allowed_directories}}", "["+strings.Join(dirs, ", ")+"]::VARCHAR[]")
	if _, err := ExecScript(ctx, conn, body); err != nil {
		return fail(err)
	}
	q, err := w.SQL.Section("_sandbox.sql", "verify")
	if err != nil {
		return fail(err)
	}
	var locked bool
	if err := conn.QueryRowContext(ctx, q).Scan(&locked); err != nil || !locked {
		return fail(fmt.Errorf("the engine is not locked down (%v); not running user SQL", err))
	}
	return conn, nil
}

// refusedKeywords are statements refused by their first word, whatever
// DuckDB makes of them (PRAGMA version parses as a SELECT).
var refusedKeywords = map[string]string{
	"COPY": "it writes and reads files", "EXPORT": "it writes files", "IMPORT": "it reads files",
	"ATTACH": "it opens other databases", "DETACH": "it changes the attached databases",
	"INSTALL": "it downloads extensions", "LOAD": "it loads extensions", "FORCE": "FORCE INSTALL downloads extensions",
	"SET": "it changes settings", "RESET": "it changes settings", "PRAGMA": "it changes settings",
	"USE": "it changes the session", "CALL": "it runs procedures", "CHECKPOINT": "it writes the database",
	"VACUUM": "it writes the database",
}

var firstWord = regexp.MustCompile(`^(?:\s+|--[^\n]*\n?|/\*(?s:.*?)\*/|\()*([A-Za-z]+)`)

// CheckStatement accepts exactly one read-only statement (SELECT, WITH,
// FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN) and refuses anything
// else with a sentence saying why, before it runs. Call it on a Sandbox
// connection: preparing a statement binds it, and binding may touch files.
func CheckStatement(ctx context.Context, conn *sql.Conn, q string) error {
	if m := firstWord.FindStringSubmatch(q); m != nil {
		if why, ok := refusedKeywords[strings.ToUpper(m[1])]; ok {
			return fmt.Errorf("%w: %s statements are not allowed (%s); parcours query runs one read-only statement",
				ErrStatement, strings.ToUpper(m[1]), why)
		}
	}
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*duckdb.Conn)
		if !ok {
			return fmt.Errorf("sandbox: unexpected driver connection %T", dc)
		}
		// Prepare (without a context) extracts the statements and refuses
		// more than one without executing any; PrepareContext would run
		// all but the last.
		st, err := c.Prepare(q)
		if err != nil {
			if strings.Contains(err.Error(), "multi-statement") {
				return fmt.Errorf("%w: exactly one statement is allowed (a PIVOT without an IN list also counts as several)", ErrStatement)
			}
			return err
		}
		defer st.Close()
		ds, ok := st.(*duckdb.Stmt)
		if !ok {
			return fmt.Errorf("sandbox: unexpected statement %T", st)
		}
		t, err := ds.StatementType()
		if err != nil {
			return err
		}
		switch t {
		case duckdb.STATEMENT_TYPE_SELECT, duckdb.STATEMENT_TYPE_EXPLAIN:
			return nil
		}
		return fmt.Errorf("%w: only a read-only statement (SELECT, WITH, FROM, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN) may run, not %s",
			ErrStatement, statementName(t))
	})
}

func statementName(t duckdb.StmtType) string {
	switch t {
	case duckdb.STATEMENT_TYPE_INSERT:
		return "INSERT"
	case duckdb.STATEMENT_TYPE_UPDATE:
		return "UPDATE"
	case duckdb.STATEMENT_TYPE_DELETE:
		return "DELETE"
	case duckdb.STATEMENT_TYPE_CREATE, duckdb.STATEMENT_TYPE_CREATE_FUNC:
		return "CREATE"
	case duckdb.STATEMENT_TYPE_DROP:
		return "DROP"
	case duckdb.STATEMENT_TYPE_ALTER:
		return "ALTER"
	case duckdb.STATEMENT_TYPE_TRANSACTION:
		return "a transaction statement"
	case duckdb.STATEMENT_TYPE_COPY:
		return "COPY"
	case duckdb.STATEMENT_TYPE_EXPORT:
		return "EXPORT"
	case duckdb.STATEMENT_TYPE_ATTACH:
		return "ATTACH"
	case duckdb.STATEMENT_TYPE_DETACH:
		return "DETACH"
	case duckdb.STATEMENT_TYPE_SET, duckdb.STATEMENT_TYPE_VARIABLE_SET:
		return "SET"
	case duckdb.STATEMENT_TYPE_LOAD, duckdb.STATEMENT_TYPE_EXTENSION:
		return "LOAD/INSTALL"
	case duckdb.STATEMENT_TYPE_PRAGMA:
		return "PRAGMA"
	case duckdb.STATEMENT_TYPE_CALL:
		return "CALL"
	}
	return fmt.Sprintf("a statement of type %d", t)
}

// pseudonymUDF is pseudonym(type, value) computed in Go: exactly
// keys.Token, the pepper never written into SQL text.
type pseudonymUDF struct{ pepper []byte }

func (u pseudonymUDF) Config() duckdb.ScalarFuncConfig {
	v, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{v, v}, ResultTypeInfo: v}
}

func (u pseudonymUDF) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(values []driver.Value) (any, error) {
		t, _ := values[0].(string)
		v, _ := values[1].(string)
		return keys.Token(u.pepper, t, v), nil
	}}
}

// phoneUDF is norm_phone(text): the E.164 form of a phone number written
// in any common way, NULL when it is not one (internal/phone), read in the
// configured default region.
type phoneUDF struct{ z *phone.Normalizer }

func (u phoneUDF) Config() duckdb.ScalarFuncConfig {
	v, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{v}, ResultTypeInfo: v}
}

func (u phoneUDF) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(values []driver.Value) (any, error) {
		s, _ := values[0].(string)
		if e, ok := u.z.E164(s); ok {
			return e, nil
		}
		return nil, nil
	}}
}

// registerFunctions adds the Go functions SQL transforms call. DuckDB keeps
// them in the database's catalog, for every connection.
func (w *Warehouse) registerFunctions(ctx context.Context) error {
	conn, err := w.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := duckdb.RegisterScalarUDF(conn, "norm_phone", phoneUDF{z: phone.NewNormalizer(w.Config.Region)}); err != nil {
		return fmt.Errorf("register norm_phone: %w", err)
	}
	if err := duckdb.RegisterScalarUDF(conn, "tcf_purposes", tcfUDF{}); err != nil {
		return fmt.Errorf("register tcf_purposes: %w", err)
	}
	return nil
}

// tcfUDF is tcf_purposes(text): the IAB TCF purposes (1..24) a TC string
// says the user consented to, NULL when it is not a TCF v2 string.
type tcfUDF struct{}

func (tcfUDF) Config() duckdb.ScalarFuncConfig {
	v, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	i, _ := duckdb.NewTypeInfo(duckdb.TYPE_INTEGER)
	l, _ := duckdb.NewListInfo(i)
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{v}, ResultTypeInfo: l}
}

func (tcfUDF) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(values []driver.Value) (any, error) {
		s, _ := values[0].(string)
		c, err := tcf.Decode(s)
		if err != nil {
			return nil, nil
		}
		out := make([]int32, len(c.Purposes))
		for i, p := range c.Purposes {
			out[i] = int32(p)
		}
		return out, nil
	}}
}
