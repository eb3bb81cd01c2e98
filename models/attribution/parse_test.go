package attribution

import (
	"reflect"
	"strings"
	"testing"
)

func TestParsePaths(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		sep     string
		delim   rune
		want    []Path
		wantErr string
	}{
		{
			name: "good file",
			in: "path,total_conversions,total_conversion_value,total_null\n" +
				"eta > iota > alpha,2,10.5,3\n" +
				"beta,0,0,7\n",
			want: []Path{
				{Channels: []string{"eta", "iota", "alpha"}, Conversions: 2, Value: 10.5, Nulls: 3},
				{Channels: []string{"beta"}, Conversions: 0, Value: 0, Nulls: 7},
			},
		},
		{
			name: "custom separator, optional columns absent, columns reordered",
			in:   "total_conversions,path\n4,a|b|a\n",
			sep:  "|",
			want: []Path{{Channels: []string{"a", "b", "a"}, Conversions: 4}},
		},
		{
			name:  "semicolons, a quoted channel holding one, a value with a comma inside quotes",
			in:    "path;total_conversions\n\"shop; online > email\";3\n",
			delim: ';',
			want:  []Path{{Channels: []string{"shop; online", "email"}, Conversions: 3}},
		},
		{
			name:    "bad number names line and column",
			in:      "path,total_conversions,total_null\na > b,1,0\nc,x1,2\n",
			wantErr: `line 3, column "total_conversions": bad non-negative number "x1"`,
		},
		{
			name:    "missing column",
			in:      "path,total_null\na,1\n",
			wantErr: `line 1: missing column "total_conversions"`,
		},
		{
			name:    "empty channel",
			in:      "path,total_conversions\na >  > b,1\n",
			wantErr: `line 2, column "path": empty channel`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePaths(strings.NewReader(tt.in), tt.sep, tt.delim)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
