package vault

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/parcours/parcours/internal/keys"
)

func subject(b byte) Subject { var s Subject; s[0], s[31] = b, b; return s }

const testID = "00112233445566778899aabbccddeeff"

// newKeystore creates an empty keystore bound to testID and opens it.
func newKeystore(t *testing.T, path string, master []byte) *Keystore {
	t.Helper()
	if err := CreateKeystore(path, master, testID); err != nil {
		t.Fatal(err)
	}
	ks, err := OpenKeystore(path, master)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestKeystoreRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keystore.bin")
	master := bytes.Repeat([]byte{7}, 32)
	ks := newKeystore(t, path, master)
	sealed := map[Subject][]byte{}
	for i := byte(1); i <= 50; i++ {
		dk, ok, err := ks.DataKey(subject(i), true)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		if sealed[subject(i)], err = Seal(dk, subject(i), "email", "person"+string('a'+rune(i%26))+"@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	if err := ks.Save(); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("keystore mode %v, want 0600", fi.Mode().Perm())
	}
	ks2, err := OpenKeystore(path, master)
	if err != nil {
		t.Fatal(err)
	}
	for i := byte(1); i <= 50; i++ {
		dk, ok, err := ks2.DataKey(subject(i), false)
		if err != nil || !ok {
			t.Fatalf("subject %d: %v %v", i, ok, err)
		}
		got, err := Open(dk, subject(i), "email", sealed[subject(i)])
		if err != nil || got != "person"+string('a'+rune(i%26))+"@example.com" {
			t.Fatalf("subject %d: %q %v", i, got, err)
		}
		// Moved to another field or another subject: refused.
		if _, err := Open(dk, subject(i), "phone", sealed[subject(i)]); err == nil {
			t.Fatal("value opened under another field")
		}
	}
	// Destroy: gone after save and reload, and the value no longer opens.
	ks2.Destroy(subject(3))
	if err := ks2.Save(); err != nil {
		t.Fatal(err)
	}
	ks3, _ := OpenKeystore(path, master)
	if _, ok, _ := ks3.DataKey(subject(3), false); ok {
		t.Fatal("destroyed key still there")
	}
	if ks3.Len() != 49 {
		t.Fatalf("len %d", ks3.Len())
	}
}

func TestKeystoreErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keystore.bin")
	master := bytes.Repeat([]byte{1}, 32)
	ks := newKeystore(t, path, master)
	ks.DataKey(subject(1), true)
	if err := ks.Save(); err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(path)
	for _, tc := range []struct {
		name    string
		prepare func()
		key     []byte
	}{
		{"wrong master key", func() {}, bytes.Repeat([]byte{2}, 32)},
		{"short master key", func() {}, []byte("short")},
		{"truncated file", func() { os.WriteFile(path, orig[:len(orig)-10], 0o600) }, master},
		{"flipped byte", func() {
			b := append([]byte(nil), orig...)
			b[headerLen+40] ^= 1
			os.WriteFile(path, b, 0o600)
		}, master},
		{"not a keystore", func() { os.WriteFile(path, []byte("hello world, not a keystore"), 0o600) }, master},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.prepare()
			defer os.WriteFile(path, orig, 0o600)
			_, err := OpenKeystore(path, tc.key)
			if !errors.Is(err, keys.ErrKey) {
				t.Fatalf("err = %v, want a key error", err)
			}
			// Nothing was rewritten by the failed open.
			if tc.name == "wrong master key" {
				now, _ := os.ReadFile(path)
				if !bytes.Equal(now, orig) {
					t.Fatal("keystore changed")
				}
			}
		})
	}
}

func TestRewrap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keystore.bin")
	oldK, newK, other := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{3}, 32)
	ks := newKeystore(t, path, oldK)
	dk, _, _ := ks.DataKey(subject(9), true)
	sealed, _ := Seal(dk, subject(9), "last_name", "Dupont")
	ks.Save()
	if _, err := Rewrap(path, other, newK); !errors.Is(err, ErrWrongMaster) {
		t.Fatalf("rewrap with unrelated keys: %v", err)
	}
	for i := 0; i < 2; i++ { // the second call finds the work done
		n, err := Rewrap(path, oldK, newK)
		if err != nil || n != 1 {
			t.Fatalf("rewrap %d: %d %v", i, n, err)
		}
	}
	if _, err := OpenKeystore(path, oldK); !errors.Is(err, ErrWrongMaster) {
		t.Fatalf("old key still opens the keystore: %v", err)
	}
	ks2, err := OpenKeystore(path, newK)
	if err != nil {
		t.Fatal(err)
	}
	dk2, _, _ := ks2.DataKey(subject(9), false)
	if got, err := Open(dk2, subject(9), "last_name", sealed); err != nil || got != "Dupont" {
		t.Fatalf("after rotation: %q %v", got, err)
	}
	if ks2.WarehouseID() != testID {
		t.Fatalf("rotation lost the warehouse id: %q", ks2.WarehouseID())
	}
	os.Remove(path)
	if _, err := Rewrap(path, oldK, newK); !errors.Is(err, ErrMissing) {
		t.Fatalf("rewrap of a missing keystore: %v, want ErrMissing (never a new empty one)", err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("rewrap created a keystore")
	}
}

// A keystore is created with its warehouse and bound to it; a missing one
// is an error, never an empty keystore; version 1 files (before binding)
// are read and bound in place with their keys.
func TestKeystoreBinding(t *testing.T) {
	dir := t.TempDir()
	master := bytes.Repeat([]byte{5}, 32)
	path := filepath.Join(dir, "keystore.bin")
	if _, err := OpenKeystore(path, master); !errors.Is(err, ErrMissing) || !errors.Is(err, keys.ErrKey) {
		t.Fatalf("open of a missing keystore: %v, want ErrMissing", err)
	}
	ks := newKeystore(t, path, master)
	if ks.WarehouseID() != testID {
		t.Fatalf("id %q", ks.WarehouseID())
	}
	if err := CreateKeystore(path, master, testID); err == nil {
		t.Fatal("CreateKeystore replaced an existing keystore")
	}
	dk, _, _ := ks.DataKey(subject(4), true)
	if err := ks.Save(); err != nil {
		t.Fatal(err)
	}
	h, err := ReadHeader(path)
	if err != nil || h.WarehouseID != testID || h.Keys != 1 || h.KeyCheckValue != KeyCheckValue(master) {
		t.Fatalf("header %+v %v", h, err)
	}
	if err := Bind(path, testID); err != nil {
		t.Fatalf("bind to its own warehouse: %v", err)
	}
	other := "ffeeddccbbaa99887766554433221100"
	if err := Bind(path, other); !errors.Is(err, keys.ErrKey) {
		t.Fatalf("bind to another warehouse: %v", err)
	}

	// A version 1 file, as written before binding: same records, no id.
	v1 := filepath.Join(dir, "v1.bin")
	var b bytes.Buffer
	b.WriteString(magic)
	b.WriteByte(1)
	kb, _ := hex.DecodeString(KeyCheckValue(master))
	b.Write(kb)
	_ = binary.Write(&b, binary.BigEndian, uint64(1))
	w, _ := ks.Wrapped(subject(4))
	s4 := subject(4)
	b.Write(s4[:])
	b.Write(w)
	sum := sha256.Sum256(b.Bytes())
	b.Write(sum[:])
	if err := os.WriteFile(v1, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if h, err := ReadHeader(v1); err != nil || h.WarehouseID != "" || h.Keys != 1 {
		t.Fatalf("v1 header %+v %v", h, err)
	}
	if err := Bind(v1, other); err != nil {
		t.Fatal(err)
	}
	ks1, err := OpenKeystore(v1, master)
	if err != nil || ks1.WarehouseID() != other {
		t.Fatalf("bound v1: %v %q", err, ks1.WarehouseID())
	}
	dk1, ok, err := ks1.DataKey(subject(4), false)
	if err != nil || !ok || !bytes.Equal(dk1, dk) {
		t.Fatal("binding changed the data key")
	}
}

func BenchmarkSealOpen(b *testing.B) {
	dk := bytes.Repeat([]byte{5}, 32)
	s := subject(1)
	for i := 0; i < b.N; i++ {
		c, _ := Seal(dk, s, "email", "jeanne.dupont@example.fr")
		if _, err := Open(dk, s, "email", c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenKeystore opens a keystore of 200,000 data keys (a fifth of
// the 1M-customer bench's). go test -bench OpenKeystore ./internal/vault
func BenchmarkOpenKeystore(b *testing.B) {
	path := filepath.Join(b.TempDir(), "keystore.bin")
	master := bytes.Repeat([]byte{7}, 32)
	if err := CreateKeystore(path, master, "00112233445566778899aabbccddeeff"); err != nil {
		b.Fatal(err)
	}
	ks, err := OpenKeystore(path, master)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 200_000 {
		var s Subject
		binary.BigEndian.PutUint64(s[:], uint64(i))
		if _, _, err := ks.DataKey(s, true); err != nil {
			b.Fatal(err)
		}
	}
	if err := ks.Save(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := OpenKeystore(path, master); err != nil {
			b.Fatal(err)
		}
	}
}

// TestKeystoreChanges checks the keystore's view (the file's records and
// the changes since) against a map that applies the same operations, in
// memory and once saved and read again.
func TestKeystoreChanges(t *testing.T) {
	master := bytes.Repeat([]byte{9}, 32)
	type op struct {
		do string // mint, destroy, put (the wrapped key of another subject's keystore), save
		s  byte
	}
	for _, tc := range []struct {
		name string
		ops  []op
	}{
		{"mint over an empty file", []op{{"mint", 5}, {"mint", 1}, {"mint", 9}}},
		{"destroy what the file holds", []op{{"mint", 1}, {"mint", 2}, {"mint", 3}, {"save", 0}, {"destroy", 2}, {"destroy", 7}}},
		{"destroy what was just minted", []op{{"mint", 1}, {"save", 0}, {"mint", 4}, {"destroy", 4}}},
		{"mint again after a destroy", []op{{"mint", 1}, {"mint", 2}, {"save", 0}, {"destroy", 2}, {"mint", 2}}},
		{"put over a key the file holds", []op{{"mint", 1}, {"mint", 2}, {"save", 0}, {"put", 2}, {"mint", 0}}},
		{"changes on both sides of the file's keys", []op{{"mint", 10}, {"mint", 20}, {"save", 0}, {"mint", 5}, {"mint", 15}, {"mint", 25}, {"destroy", 10}, {"save", 0}, {"destroy", 25}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keystore.bin")
			ks := newKeystore(t, path, master)
			other := newKeystore(t, filepath.Join(t.TempDir(), "other.bin"), master)
			want := map[Subject][]byte{} // subject -> data key
			for _, o := range tc.ops {
				s := subject(o.s)
				switch o.do {
				case "mint":
					dk, ok, err := ks.DataKey(s, true)
					if err != nil || !ok {
						t.Fatal(ok, err)
					}
					if old, had := want[s]; had && !bytes.Equal(old, dk) {
						t.Fatalf("subject %d: minting returned another key than the one held", o.s)
					}
					want[s] = dk
				case "destroy":
					_, had := want[s]
					if got := ks.Destroy(s); got != had {
						t.Fatalf("Destroy(%d) = %v, want %v", o.s, got, had)
					}
					delete(want, s)
				case "put":
					dk, _, _ := other.DataKey(s, true)
					w, _ := other.Wrapped(s)
					if err := ks.PutWrapped(s, w); err != nil {
						t.Fatal(err)
					}
					want[s] = dk
				case "save":
					if err := ks.Save(); err != nil {
						t.Fatal(err)
					}
					var err error
					if ks, err = OpenKeystore(path, master); err != nil {
						t.Fatal(err)
					}
				}
			}
			check := func(ks *Keystore, when string) {
				t.Helper()
				if ks.Len() != len(want) {
					t.Fatalf("%s: Len() = %d, want %d", when, ks.Len(), len(want))
				}
				subs := ks.Subjects()
				for i := 1; i < len(subs); i++ {
					if bytes.Compare(subs[i-1][:], subs[i][:]) >= 0 {
						t.Fatalf("%s: Subjects() not sorted", when)
					}
				}
				for _, s := range subs {
					if _, ok := want[s]; !ok {
						t.Fatalf("%s: subject %d listed, destroyed or never minted", when, s[0])
					}
				}
				for b := range byte(30) {
					s := subject(b)
					dk, ok, err := ks.DataKey(s, false)
					if err != nil {
						t.Fatal(err)
					}
					if w, held := want[s]; ok != held || (held && !bytes.Equal(dk, w)) {
						t.Fatalf("%s: subject %d: held %v, want %v (or another key)", when, b, ok, held)
					}
				}
			}
			check(ks, "before saving")
			if err := ks.Save(); err != nil {
				t.Fatal(err)
			}
			again, err := OpenKeystore(path, master)
			if err != nil {
				t.Fatal(err)
			}
			check(again, "saved and read again")
		})
	}
}

// TestKeystoreUnsortedFile reads a file whose records are not in subject
// order (keystores are always written sorted; one edited by hand may not
// be): every key is still found.
func TestKeystoreUnsortedFile(t *testing.T) {
	master := bytes.Repeat([]byte{9}, 32)
	path := filepath.Join(t.TempDir(), "keystore.bin")
	ks := newKeystore(t, path, master)
	dks := map[Subject][]byte{}
	for _, b := range []byte{1, 2, 3} {
		dks[subject(b)], _, _ = ks.DataKey(subject(b), true)
	}
	if err := ks.Save(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	body := b[headerLen : len(b)-sha256.Size]
	first := append([]byte(nil), body[:recordLen]...)
	copy(body, body[recordLen:2*recordLen]) // records 2, 1, 3
	copy(body[recordLen:], first)
	sum := sha256.Sum256(b[:len(b)-sha256.Size])
	copy(b[len(b)-sha256.Size:], sum[:])
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	again, err := OpenKeystore(path, master)
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range dks {
		if dk, ok, err := again.DataKey(s, false); err != nil || !ok || !bytes.Equal(dk, want) {
			t.Fatalf("subject %d: %v %v", s[0], ok, err)
		}
	}
}

// BenchmarkOpenKeystore1M opens a keystore of a million data keys, as
// every job that reads or writes the vault does at a million customers.
func BenchmarkOpenKeystore1M(b *testing.B) {
	master := bytes.Repeat([]byte{9}, 32)
	path := filepath.Join(b.TempDir(), "keystore.bin")
	if err := CreateKeystore(path, master, testID); err != nil {
		b.Fatal(err)
	}
	ks, err := OpenKeystore(path, master)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 1_000_000 {
		var s Subject
		binary.BigEndian.PutUint64(s[:], uint64(i)*0x9E3779B97F4A7C15)
		if _, _, err := ks.DataKey(s, true); err != nil {
			b.Fatal(err)
		}
	}
	if err := ks.Save(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		ks, err := OpenKeystore(path, master)
		if err != nil || ks.Len() != 1_000_000 {
			b.Fatal(ks.Len(), err)
		}
	}
}
