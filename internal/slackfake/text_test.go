package slackfake

import "testing"

func TestBlockText(t *testing.T) {
	raw := []byte(`[{"type":"header","text":{"type":"plain_text","text":"#1 Title"}},
		{"type":"section","text":{"type":"mrkdwn","text":"intro"},"fields":[{"type":"mrkdwn","text":"a"},{"type":"mrkdwn","text":"b"}]},
		{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"Go"},"value":"v"}]},
		{"type":"context","elements":[{"type":"mrkdwn","text":"note"}]}]`)
	if got, want := BlockText(raw), "#1 Title\nintro\na\nb\nGo\nnote"; got != want {
		t.Errorf("BlockText = %q, want %q", got, want)
	}
	if got := BlockText([]byte("not json")); got != "" {
		t.Errorf("BlockText(garbage) = %q, want empty", got)
	}
}
