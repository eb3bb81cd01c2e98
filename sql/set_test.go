package sql

import (
	"testing"
	"testing/fstest"
)

func TestParse(t *testing.T) {
	fsys := fstest.MapFS{
		"t.sql":     {Data: []byte("-- header comment\n-- name: create\nCREATE TABLE x(a INT);\n\n-- name: load\nINSERT INTO x SELECT 1;\n")},
		"plain.sql": {Data: []byte("SELECT 42\n")},
		"dup.sql":   {Data: []byte("-- name: a\nselect 1;\n-- name: a\nselect 2;\n")},
	}
	if _, err := Parse(fsys); err == nil {
		t.Fatal("a section defined twice must be an error")
	}
	delete(fsys, "dup.sql")
	s, err := Parse(fsys)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ file, section, want string }{
		{"t.sql", "create", "CREATE TABLE x(a INT);"},
		{"t.sql", "load", "INSERT INTO x SELECT 1;"},
		{"plain.sql", "main", "SELECT 42"},
	}
	for _, tt := range tests {
		got, err := s.Section(tt.file, tt.section)
		if err != nil || got != tt.want {
			t.Errorf("Section(%s, %s) = %q, %v; want %q", tt.file, tt.section, got, err, tt.want)
		}
	}
	if _, ok := s.files["t.sql"]["main"]; ok {
		t.Error("a comment-only preamble must not become a section")
	}
	if _, err := s.Section("t.sql", "nope"); err == nil {
		t.Error("missing section must be an error")
	}
	if !s.Has("t.sql") || s.Has("x.sql") {
		t.Error("Has is wrong")
	}
}
