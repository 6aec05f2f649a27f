package tracker

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		h    map[string]string
		want time.Duration
	}{
		{"seconds", map[string]string{"Retry-After": "30"}, 30 * time.Second},
		{"a date", map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}, 90 * time.Second},
		{"GitHub's reset in seconds", map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(now.Add(time.Minute).Unix(), 10)}, time.Minute},
		{"a reset in milliseconds", map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(now.Add(time.Minute).UnixMilli(), 10)}, time.Minute},
		{"a reset with calls left", map[string]string{"X-RateLimit-Remaining": "10", "X-RateLimit-Reset": strconv.FormatInt(now.Add(time.Minute).Unix(), 10)}, 0},
		{"nothing", nil, 0},
		{"garbage", map[string]string{"Retry-After": "soon"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.h {
				h.Set(k, v)
			}
			if got := RetryAfter(h, now); got != tt.want {
				t.Errorf("RetryAfter = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestPlain(t *testing.T) {
	name := func(id string) string { return map[string]string{"U1": "Ann Lee"}[id] }
	tests := []struct{ in, want string }{
		{"ask <@U1> and <@U9|bob>", "ask @Ann Lee and @bob"},
		{"see <https://x.example/a?b=1&amp;c=2|the runbook> or <https://y.example>", "see the runbook (https://x.example/a?b=1&c=2) or https://y.example"},
		{"in <#C1|ops> <!here> <!subteam^S1|@sre>", "in #ops @here @sre"},
		{"a &lt;b&gt; &amp; *c*", "a <b> & *c*"},
	}
	for _, tt := range tests {
		if got := Plain(tt.in, name); got != tt.want {
			t.Errorf("Plain(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTitle(t *testing.T) {
	if got := titleOf(4, "  Add a canary\nsecond line"); got != "Follow-up from incident #4: Add a canary" {
		t.Errorf("title %q", got)
	}
	long := titleOf(4, strings.Repeat("é", 300))
	if !utf8.ValidString(long) || len(long) > 256 || !strings.HasSuffix(long, "…") {
		t.Errorf("long title %q (%d bytes)", long, len(long))
	}
}

func TestClassifyWords(t *testing.T) {
	now := time.Now()
	for status, want := range map[int]string{
		401: "refused the token", 403: "lacks the scope", 404: "no such project or repository", 410: "no such project", 422: "refused the issue",
	} {
		e := Classify("github", "GitHub", &http.Response{StatusCode: status, Header: http.Header{}}, "x", "SITREP_GITHUB_TOKEN", "the scope", now)
		if !e.Final || !strings.Contains(e.Problem, want) {
			t.Errorf("%d: %+v, want final saying %q", status, e, want)
		}
	}
	for _, status := range []int{429, 500, 502, 503} {
		if e := Classify("github", "GitHub", &http.Response{StatusCode: status, Header: http.Header{}}, "", "T", "s", now); e.Final {
			t.Errorf("%d is final", status)
		}
	}
}
