package sitrep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

const manifestPath = "manifest.yaml"

// schemaPath is Slack's published manifest schema: the repository's copy of
// shared/schemas (see testdata/shared/README.md).
var schemaPath = filepath.Join("testdata", "shared", "schemas", "slack-app-manifest.schema.json")

// wantBotScopes is every bot scope Sitrep needs, sorted. manifest.yaml says
// which Web API call needs each one.
var wantBotScopes = []string{
	"channels:history",
	"channels:join",
	"channels:manage",
	"channels:read",
	"chat:write",
	"commands",
	"files:read",
	"files:write",
	"groups:history",
	"groups:read",
	"groups:write",
	"im:write",
	"pins:write",
	"reactions:read",
	"users:read",
	"users:read.email",
}

func TestManifestMatchesSlackSchema(t *testing.T) {
	raw := readManifestJSON(t)
	if err := validate(t, raw); err != nil {
		t.Fatalf("%s does not match Slack's manifest schema (%s):\n%#v", manifestPath, schemaPath, err)
	}

	var m struct {
		Features struct {
			SlashCommands []struct {
				Command      string `json:"command"`
				URL          string `json:"url"`
				ShouldEscape bool   `json:"should_escape"`
			} `json:"slash_commands"`
			Shortcuts []struct {
				Type       string `json:"type"`
				CallbackID string `json:"callback_id"`
			} `json:"shortcuts"`
			AppHome struct {
				HomeTabEnabled bool `json:"home_tab_enabled"`
			} `json:"app_home"`
		} `json:"features"`
		OAuthConfig struct {
			Scopes struct {
				Bot  []string `json:"bot"`
				User []string `json:"user"`
			} `json:"scopes"`
		} `json:"oauth_config"`
		Settings struct {
			Interactivity struct {
				IsEnabled  bool   `json:"is_enabled"`
				RequestURL string `json:"request_url"`
			} `json:"interactivity"`
			EventSubscriptions struct {
				RequestURL string   `json:"request_url"`
				BotEvents  []string `json:"bot_events"`
			} `json:"event_subscriptions"`
		} `json:"settings"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("decoding %s: %v", manifestPath, err)
	}

	i := slices.IndexFunc(m.Features.SlashCommands, func(c struct {
		Command      string `json:"command"`
		URL          string `json:"url"`
		ShouldEscape bool   `json:"should_escape"`
	}) bool {
		return c.Command == "/incident"
	})
	if i < 0 {
		t.Errorf("features.slash_commands has no /incident command")
	} else {
		c := m.Features.SlashCommands[i]
		if !c.ShouldEscape {
			t.Errorf("/incident: should_escape is false, want true (the parser expects mentions as <@U…> IDs)")
		}
		if !strings.HasSuffix(c.URL, "/slack/commands") {
			t.Errorf("/incident: url = %q, want one ending in /slack/commands", c.URL)
		}
	}

	if !m.Settings.Interactivity.IsEnabled {
		t.Errorf("settings.interactivity.is_enabled is false, want true")
	}
	if u := m.Settings.Interactivity.RequestURL; !strings.HasSuffix(u, "/slack/interactions") {
		t.Errorf("settings.interactivity.request_url = %q, want one ending in /slack/interactions", u)
	}

	// The bot package's callback ID and the events it handles.
	if len(m.Features.Shortcuts) != 1 || m.Features.Shortcuts[0].Type != "message" || m.Features.Shortcuts[0].CallbackID != "add_to_timeline" {
		t.Errorf("features.shortcuts = %+v, want the message shortcut add_to_timeline", m.Features.Shortcuts)
	}
	if !m.Features.AppHome.HomeTabEnabled {
		t.Error("features.app_home.home_tab_enabled is false; Sitrep publishes a Home tab")
	}
	if u := m.Settings.EventSubscriptions.RequestURL; !strings.HasSuffix(u, "/slack/events") {
		t.Errorf("settings.event_subscriptions.request_url = %q, want one ending in /slack/events", u)
	}
	if diff := cmp.Diff([]string{"app_home_opened", "file_shared", "member_joined_channel", "member_left_channel", "reaction_added"}, slices.Sorted(slices.Values(m.Settings.EventSubscriptions.BotEvents))); diff != "" {
		t.Errorf("bot_events (-want +got):\n%s", diff)
	}

	got := slices.Sorted(slices.Values(m.OAuthConfig.Scopes.Bot))
	if diff := cmp.Diff(wantBotScopes, got); diff != "" {
		t.Errorf("oauth_config.scopes.bot differs from what Sitrep needs (-want +got):\n%s", diff)
	}
	if len(m.OAuthConfig.Scopes.User) > 0 {
		t.Errorf("oauth_config.scopes.user = %q, want none: Sitrep acts only as its bot", m.OAuthConfig.Scopes.User)
	}
}

// TestManifestSchemaRejectsInvalidManifests proves the schema check is not
// vacuous: broken copies of manifest.yaml must fail it.
func TestManifestSchemaRejectsInvalidManifests(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(m map[string]any)
	}{
		{"display_information removed", func(m map[string]any) {
			delete(m, "display_information")
		}},
		{"unknown top-level key", func(m map[string]any) {
			m["slash_commands"] = []any{map[string]any{"command": "/incident", "description": "misplaced"}}
		}},
		{"request URL without a scheme", func(m map[string]any) {
			m["settings"].(map[string]any)["interactivity"].(map[string]any)["request_url"] = "sitrep.example.com/slack/interactions"
		}},
		{"unfurl domain starting with a hyphen", func(m map[string]any) {
			// Exercises the lookahead pattern that schemaRegexp rewrites.
			m["features"].(map[string]any)["unfurl_domains"] = []any{"-sitrep.example.com"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(readManifestJSON(t), &m); err != nil {
				t.Fatal(err)
			}
			tt.mutate(m)
			raw, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(t, raw); err == nil {
				t.Errorf("the schema accepted a manifest with %s", tt.name)
			}
		})
	}
}

// readManifestJSON reads manifest.yaml and returns it as JSON, the form the
// schema describes.
func readManifestJSON(t *testing.T) []byte {
	t.Helper()
	f, err := os.Open(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var doc any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("parsing %s: %v", manifestPath, err)
	}
	if err := dec.Decode(new(any)); !errors.Is(err, io.EOF) {
		t.Fatalf("%s: want exactly one YAML document (err = %v)", manifestPath, err)
	}
	// yaml.v3 decodes mappings with string keys to map[string]any, which
	// encoding/json accepts; anything else (a non-string key) fails here.
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatalf("%s is not representable as JSON: %v", manifestPath, err)
	}
	return raw
}

// validate checks a JSON manifest against Slack's schema.
func validate(t *testing.T, manifestJSON []byte) error {
	t.Helper()
	schema := compileSchema(t)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(manifestJSON))
	if err != nil {
		t.Fatal(err)
	}
	return schema.Validate(inst)
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	b, err := os.ReadFile(schemaPath)
	if errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Slack's manifest schema is missing: %v\n"+
			"Copy it from shared/schemas/ (see testdata/shared/README.md).", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parsing %s: %v", schemaPath, err)
	}
	abs, err := filepath.Abs(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.UseRegexpEngine(schemaRegexp)
	if err := c.AddResource(abs, doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile(abs)
	if err != nil {
		t.Fatalf("compiling %s: %v", schemaPath, err)
	}
	return schema
}

// re2Equivalents maps patterns in Slack's schema that use ECMAScript
// lookahead, which Go's RE2 engine lacks, to RE2 patterns that match exactly
// the same strings.
var re2Equivalents = map[string]string{
	// unfurl_domains and outgoing_domains: two or more of [-a-z0-9.], the first
	// not '.' or '-' (so [a-z0-9]), the last [a-z0-9].
	`^(?![\.\-])([-a-z0-9\.])+([a-z0-9])$`: `^[a-z0-9][-a-z0-9.]*[a-z0-9]$`,
}

// schemaRegexp compiles the schema's patterns with Go's regexp, using
// re2Equivalents for the ones it cannot parse. A new pattern it cannot handle
// fails the compile loudly rather than being skipped.
func schemaRegexp(s string) (jsonschema.Regexp, error) {
	re, err := regexp.Compile(s)
	if err == nil {
		return re, nil
	}
	if eq, ok := re2Equivalents[s]; ok {
		return regexp.Compile(eq)
	}
	return nil, fmt.Errorf("schema pattern %q is not RE2 and has no entry in re2Equivalents: %w", s, err)
}
