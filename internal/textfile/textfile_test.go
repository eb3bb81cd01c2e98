package textfile

import "testing"

func TestDetectEncoding(t *testing.T) {
	for _, tc := range []struct {
		name string
		head []byte
		want string
	}{
		{"ascii", []byte("a;b\n1;2\n"), "utf-8"},
		{"utf-8", []byte("Prénom;Zoë\n"), "utf-8"},
		{"utf-8 cut mid-character", []byte("Prénom;Zo\xc3"), "utf-8"},
		{"utf-8 bom", []byte("\xef\xbb\xbfa,b\n"), "utf-8"},
		{"latin-1", []byte("Pr\xe9nom;Zo\xeb\n"), "latin-1"},
		{"windows-1252 euro", []byte("Prix;12 \x80\n"), "windows-1252"},
		{"utf-16le bom", []byte("\xff\xfea\x00,\x00"), "utf-16"},
	} {
		if got := DetectEncoding(tc.head); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestDecoder(t *testing.T) {
	for _, tc := range []struct{ enc, in, want string }{
		{"latin-1", "Pr\xe9nom", "Prénom"},
		{"windows-1252", "12 \x80", "12 €"},
		{"utf-16", "\xff\xfeP\x00r\x00\xe9\x00", "Pré"},
	} {
		d, err := Decoder(tc.enc)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]byte, 64)
		n, _, err := d.Transform(out, []byte(tc.in), true)
		if err != nil || string(out[:n]) != tc.want {
			t.Errorf("%s: %q %v, want %q", tc.enc, out[:n], err, tc.want)
		}
	}
	if d, err := Decoder("utf-8"); d != nil || err != nil {
		t.Errorf("utf-8: %v %v, want no decoder", d, err)
	}
	if _, err := Decoder("ebcdic"); err == nil {
		t.Error("ebcdic accepted")
	}
}
