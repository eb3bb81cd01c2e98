package export

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// pyString quotes s as a Python 3 string literal. Only \\, \" and control
// characters are escaped, so docs stay readable in the generated file.
func pyString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f || !unicode.IsPrint(r) && r != ' ':
			if r > 0xffff {
				fmt.Fprintf(&b, `\U%08x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// pyIdent turns a job name into the Python variable holding its task. A
// name that would shadow a keyword, a builtin or a name of the generated
// module (a job called "range" would break range(SHARDS)) gets "_task".
func pyIdent(name string) string {
	var b strings.Builder
	for i, r := range name {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			b.WriteRune(r)
		case r >= '0' && r <= '9':
			if i == 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	id := b.String()
	if pyReserved(id) {
		id += "_task"
	}
	return id
}

// pyReserved reports names a task variable must not take: Python keywords
// and builtins, and the names the generated module defines or imports.
func pyReserved(id string) bool {
	if strings.ToUpper(id) == id {
		return true // the module's settings and constants are upper case
	}
	switch id {
	// keywords and soft keywords
	case "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
		"elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is",
		"lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with",
		"yield", "match", "case", "type", "_":
		return true
	// builtins
	case "abs", "aiter", "all", "anext", "any", "ascii", "bin", "bool", "breakpoint", "bytearray",
		"bytes", "callable", "chr", "classmethod", "compile", "complex", "copyright", "credits",
		"delattr", "dict", "dir", "divmod", "enumerate", "eval", "exec", "exit", "filter", "float",
		"format", "frozenset", "getattr", "globals", "hasattr", "hash", "help", "hex", "id", "input",
		"int", "isinstance", "issubclass", "iter", "len", "license", "list", "locals", "map", "max",
		"memoryview", "min", "next", "object", "oct", "open", "ord", "pow", "print", "property",
		"quit", "range", "repr", "reversed", "round", "set", "setattr", "slice", "sorted",
		"staticmethod", "str", "sum", "super", "tuple", "vars", "zip":
		return true
	// names of the generated module
	case "annotations", "dag", "shlex", "pendulum", "timedelta", "k8s", "parcours_command",
		"run_command", "run_args", "shard_commands", "shard_args", "merge_command", "merge_args",
		"secret_env", "pod_exit_code", "merge", "BashOperator", "KubernetesPodOperator",
		"ParcoursBashOperator", "ParcoursPodOperator", "CronDataIntervalTimetable",
		"AirflowException", "AirflowFailException", "AirflowSkipException":
		return true
	}
	return false
}

// podName is the Kubernetes pod name prefix of a job's task: a DNS-1123
// label (lower case letters, digits and dashes); the operator adds a suffix.
func podName(job string) string {
	var b strings.Builder
	b.WriteString("parcours-")
	dash := false
	for _, r := range strings.ToLower(job) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimRight(b.String(), "-")
}
