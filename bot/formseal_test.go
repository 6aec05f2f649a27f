package bot

import (
	"encoding/json"
	"errors"
	"testing"
)

// TestFormSeal opens a sealed form's metadata as submitted, and as an
// attacker would change it: each change is refused.
func TestFormSeal(t *testing.T) {
	f := newFormSeal("signing-secret", "")
	meta := f.seal(modalMeta{Kind: callbackUpdate, User: "U1", Channel: "C1", Number: 1, ResponseURL: "https://hooks.slack.com/x"})
	edit := func(fn func(m map[string]any)) string {
		var m map[string]any
		json.Unmarshal([]byte(meta.String()), &m)
		fn(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	if got, err := f.open(meta.String(), callbackUpdate, "U1"); err != nil || got != meta {
		t.Fatalf("open(sealed) = %+v, %v; want %+v", got, err, meta)
	}
	tests := []struct {
		name, metadata, kind, user string
	}{
		{"another incident", edit(func(m map[string]any) { m["n"] = 2 }), callbackUpdate, "U1"},
		{"another channel", edit(func(m map[string]any) { m["c"] = "C2" }), callbackUpdate, "U1"},
		{"another response_url", edit(func(m map[string]any) { m["r"] = "https://attacker.example" }), callbackUpdate, "U1"},
		{"another user in the metadata", edit(func(m map[string]any) { m["u"] = "U2" }), callbackUpdate, "U2"},
		{"submitted by someone else", meta.String(), callbackUpdate, "U2"},
		{"submitted as another form", meta.String(), callbackDeclare, "U1"},
		{"no seal", edit(func(m map[string]any) { delete(m, "s") }), callbackUpdate, "U1"},
		{"metadata from before seals", `{"c":"C1","n":1}`, callbackUpdate, "U1"},
		{"sealed with another secret", newFormSeal("other-secret", "").seal(modalMeta{Kind: callbackUpdate, User: "U1", Channel: "C1", Number: 1}).String(), callbackUpdate, "U1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.open(tt.metadata, tt.kind, tt.user); !errors.Is(err, errFormSeal) {
				t.Errorf("open = %v, want errFormSeal", err)
			}
		})
	}
	if _, err := f.open("not json", callbackUpdate, "U1"); err == nil {
		t.Error("unreadable metadata was accepted")
	}
}

// TestFormSealKey checks where the key comes from: the signing secret
// when there is one, else the app token (Socket Mode alone), both stable
// across restarts; with neither, a key of the process's own.
func TestFormSealKey(t *testing.T) {
	m := modalMeta{Kind: callbackDeclare, User: "U1", Channel: "C1"}
	sealed := func(f formSeal) string { return f.seal(m).Seal }
	if sealed(newFormSeal("s", "xapp-1")) != sealed(newFormSeal("s", "xapp-2")) {
		t.Error("with a signing secret, the app token changed the key")
	}
	// Two seals made apart, as by two runs of the program.
	first, second := newFormSeal("", "xapp-1"), newFormSeal("", "xapp-1")
	if sealed(first) != sealed(second) {
		t.Error("the app token does not give a stable key")
	}
	if sealed(newFormSeal("", "xapp-1")) == sealed(newFormSeal("", "xapp-2")) {
		t.Error("different app tokens gave the same key")
	}
	one, other := newFormSeal("", ""), newFormSeal("", "")
	if sealed(one) == sealed(other) {
		t.Error("with no secret at all, two processes share a key")
	}
}
