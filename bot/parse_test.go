package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var testSeverities = []string{"sev0", "sev1", "sev2", "sev3"}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    Command
		wantErr string // substring of the usage error; "" means success
		usage   string // the subcommand whose usage the error shows
	}{
		{name: "empty is help", text: "", want: Command{Name: "help"}},
		{name: "blank is help", text: "  \t ", want: Command{Name: "help"}},
		{name: "help", text: "help", want: Command{Name: "help"}},
		{name: "subcommand is case-insensitive", text: "HELP", want: Command{Name: "help"}},
		{name: "declare with severity", text: "declare sev1 Checkout failing for EU users", want: Command{Name: "declare", Severity: "sev1", Title: "Checkout failing for EU users"}},
		{name: "declare severity in capitals", text: "declare SEV0 DB down", want: Command{Name: "declare", Severity: "sev0", Title: "DB down"}},
		{name: "declare without severity", text: "declare Checkout failing", want: Command{Name: "declare", Title: "Checkout failing"}},
		{name: "declare keeps inner spacing", text: "declare sev2   API  slow ", want: Command{Name: "declare", Severity: "sev2", Title: "API  slow"}},
		{name: "declare title in Japanese", text: "declare sev1 決済が失敗しています", want: Command{Name: "declare", Severity: "sev1", Title: "決済が失敗しています"}},
		{name: "declare title of emoji", text: "declare 🔥🔥", want: Command{Name: "declare", Title: "🔥🔥"}},
		{name: "declare unknown severity", text: "declare sev7 Checkout failing", wantErr: `"sev7" is not a severity`, usage: "declare"},
		{name: "declare sev with hyphen", text: "declare SEV-1 Checkout", want: Command{Name: "declare", Severity: "sev1", Title: "Checkout"}},
		{name: "declare sev and number apart", text: "declare sev 1 Checkout failing", want: Command{Name: "declare", Severity: "sev1", Title: "Checkout failing"}},
		{name: "declare sev and number apart, form", text: "declare Sev 2", want: Command{Name: "declare", Severity: "sev2"}},
		{name: "declare title starting with a number", text: "declare 500 errors on checkout", want: Command{Name: "declare", Title: "500 errors on checkout"}},
		{name: "declare title starting with sev", text: "declare sev alert noise", want: Command{Name: "declare", Title: "sev alert noise"}},
		{name: "declare unknown sev apart", text: "declare sev 7 Checkout", wantErr: `"sev 7" is not a severity`, usage: "declare"},
		{name: "declare unknown sev with hyphen", text: "declare sev-7 Checkout", wantErr: `"sev-7" is not a severity`, usage: "declare"},
		{name: "declare without title opens the form", text: "declare", want: Command{Name: "declare"}},
		{name: "declare severity only opens the form", text: "declare sev1", want: Command{Name: "declare", Severity: "sev1"}},
		{name: "list", text: "list", want: Command{Name: "list"}},
		{name: "oncall", text: "oncall", want: Command{Name: "oncall"}},
		{name: "oncall one schedule", text: "oncall Primary", want: Command{Name: "oncall", Schedule: "primary"}},
		{name: "on-call alias", text: "on-call primary", want: Command{Name: "oncall", Schedule: "primary"}},
		{name: "oncall two schedules", text: "oncall primary secondary", wantErr: "at most one schedule", usage: "oncall"},
		{name: "override", text: "oncall override primary <@U0DANA|dana> 8h", want: Command{Name: "oncall", Override: true, Schedule: "primary", User: "U0DANA", For: 8 * time.Hour}},
		{name: "override days", text: "oncall OVERRIDE primary <@U0DANA> 2d", want: Command{Name: "oncall", Override: true, Schedule: "primary", User: "U0DANA", For: 48 * time.Hour}},
		{name: "override a week", text: "oncall override primary <@U0DANA> 1w", want: Command{Name: "oncall", Override: true, Schedule: "primary", User: "U0DANA", For: 7 * 24 * time.Hour}},
		{name: "override negative is parsed, refused by the domain", text: "oncall override primary <@U0DANA> -1h", want: Command{Name: "oncall", Override: true, Schedule: "primary", User: "U0DANA", For: -time.Hour}},
		{name: "override bad duration", text: "oncall override primary <@U0DANA> soon", wantErr: `"soon" is not a duration`, usage: "oncall"},
		{name: "override absurd days", text: "oncall override primary <@U0DANA> 99999d", wantErr: `"99999d" is not a duration`, usage: "oncall"},
		{name: "override no duration", text: "oncall override primary <@U0DANA>", wantErr: "Give the schedule, the person and how long", usage: "oncall"},
		{name: "override plain name", text: "oncall override primary dana 8h", wantErr: `"dana" is not a mention`, usage: "oncall"},
		{name: "override extra", text: "oncall override primary <@U0DANA> 8h please", wantErr: "only the schedule", usage: "oncall"},
		{name: "page a person", text: "page <@U0DANA|dana> DB is on fire", want: Command{Name: "page", Target: "user:U0DANA", Text: "DB is on fire"}},
		{name: "page a schedule", text: "page Primary", want: Command{Name: "page", Target: "schedule:primary", Schedule: "primary"}},
		{name: "page nobody", text: "page", wantErr: "Say whom to page", usage: "page"},
		{name: "page an unlinked name", text: "page @dana", wantErr: `"@dana" is not a mention`, usage: "page"},
		{name: "status", text: "status identified", want: Command{Name: "status", Status: "identified"}},
		{name: "status lowercased", text: "status Monitoring", want: Command{Name: "status", Status: "monitoring"}},
		{name: "status missing", text: "status", wantErr: "exactly one status", usage: "status"},
		{name: "status two words", text: "status very identified", wantErr: "exactly one status", usage: "status"},
		{name: "sev alias", text: "sev sev0", want: Command{Name: "severity", Severity: "sev0"}},
		{name: "severity", text: "severity SEV3", want: Command{Name: "severity", Severity: "sev3"}},
		{name: "severity missing", text: "sev", wantErr: "exactly one severity", usage: "severity"},
		{name: "sev and a number", text: "sev 1", want: Command{Name: "severity", Severity: "sev1"}},
		{name: "sev in capitals", text: "sev SEV1", want: Command{Name: "severity", Severity: "sev1"}},
		{name: "severity sev and a number", text: "severity sev 0", want: Command{Name: "severity", Severity: "sev0"}},
		{name: "severity with hyphen", text: "severity Sev-2", want: Command{Name: "severity", Severity: "sev2"}},
		{name: "unknown number is left to the service", text: "sev 9", want: Command{Name: "severity", Severity: "9"}},
		{name: "severity and more", text: "sev 1 now", wantErr: "exactly one severity", usage: "severity"},
		{name: "lead with escaped mention", text: "lead <@U2|bob>", want: Command{Name: "lead", Role: "commander", User: "U2"}},
		{name: "ic alias", text: "ic <@U0123ABC>", want: Command{Name: "lead", Role: "commander", User: "U0123ABC"}},
		{name: "commander alias, enterprise user", text: "commander <@W111|ann>", want: Command{Name: "lead", Role: "commander", User: "W111"}},
		{name: "lead with plain name", text: "lead @bob", wantErr: "is not a mention", usage: "lead"},
		{name: "lead with channel", text: "lead <#C123|general>", wantErr: "is not a mention", usage: "lead"},
		{name: "lead with nobody", text: "lead", wantErr: "Say who", usage: "lead"},
		{name: "lead with two people", text: "lead <@U1> <@U2>", wantErr: "exactly one person", usage: "lead"},
		{name: "role", text: "role Comms <@U3|cat>", want: Command{Name: "role", Role: "comms", User: "U3"}},
		{name: "role without user", text: "role comms", wantErr: "Give a role and a person", usage: "role"},
		{name: "role with bad user", text: "role comms cat", wantErr: "is not a mention", usage: "role"},
		{name: "note keeps text as typed", text: "note Rolled back <@U2|bob>'s deploy | see <https://x.example|runbook>", want: Command{Name: "note", Text: "Rolled back <@U2|bob>'s deploy | see <https://x.example|runbook>"}},
		{name: "note multiline", text: "note line one\nline two", want: Command{Name: "note", Text: "line one\nline two"}},
		{name: "note empty", text: "note   ", wantErr: "note is empty", usage: "note"},
		{name: "update", text: "update Error rate back to normal", want: Command{Name: "update", Text: "Error rate back to normal"}},
		{name: "update without text opens the form", text: "update", want: Command{Name: "update"}},
		{name: "timeline", text: "timeline", want: Command{Name: "timeline"}},
		{name: "resolve without summary", text: "resolve", want: Command{Name: "resolve"}},
		{name: "publish opens the form", text: "publish", want: Command{Name: "publish"}},
		{name: "thirdparty", text: "thirdparty", want: Command{Name: "thirdparty"}},
		{name: "third-party alias", text: "third-party", want: Command{Name: "thirdparty"}},
		{name: "publish in capitals", text: "PUBLISH", want: Command{Name: "publish"}},
		{name: "resolve with summary", text: "resolve Bad config reverted", want: Command{Name: "resolve", Text: "Bad config reverted"}},
		{name: "reopen", text: "reopen errors are back", want: Command{Name: "reopen", Text: "errors are back"}},
		{name: "impact", text: "impact EU *card* payments fail\nfor 30%", want: Command{Name: "impact", Text: "EU *card* payments fail\nfor 30%"}},
		{name: "impact empty", text: "impact", wantErr: "impact is empty", usage: "impact"},
		{name: "rootcause", text: "rootcause An expired cert on <https://lb.example|the LB>", want: Command{Name: "rootcause", Text: "An expired cert on <https://lb.example|the LB>"}},
		{name: "root-cause alias", text: "root-cause Expired cert", want: Command{Name: "rootcause", Text: "Expired cert"}},
		{name: "rootcause empty", text: "rootcause  ", wantErr: "root cause is empty", usage: "rootcause"},
		{name: "learning", text: "learning Alert on cert expiry", want: Command{Name: "learning", Text: "Alert on cert expiry"}},
		{name: "learning empty", text: "learning", wantErr: "learning is empty", usage: "learning"},
		{name: "postmortem", text: "postmortem", want: Command{Name: "postmortem"}},
		{name: "unknown subcommand", text: "frobnicate now", wantErr: `don't know the subcommand "frobnicate"`},
		{name: "misspelt subcommand", text: "delcare sev1 Checkout", wantErr: `don't know the subcommand "delcare"`, usage: "declare"},
		{name: "mention as subcommand", text: "<@U1> help", wantErr: "don't know the subcommand"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.text, testSeverities)
			if tt.wantErr != "" {
				ue, ok := err.(*usageError)
				if !ok || !strings.Contains(ue.msg, tt.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want a usage error containing %q", tt.text, err, tt.wantErr)
				}
				if ue.usage != tt.usage {
					t.Errorf("usage shown = %q, want %q", ue.usage, tt.usage)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.text, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

// TestHelpCoversTheTable checks that help is generated from the parser's
// table: every subcommand and alias the parser accepts is listed, and every
// listed usage line parses as that subcommand.
func TestHelpCoversTheTable(t *testing.T) {
	help := helpText("/incident")
	for _, sc := range subcommands {
		if !strings.Contains(help, "`"+sc.usage("/incident")+"`") {
			t.Errorf("help lacks %q", sc.usage("/incident"))
		}
		for _, a := range sc.aliases {
			if !strings.Contains(help, a) {
				t.Errorf("help lacks alias %q of %s", a, sc.name)
			}
			if c, err := Parse(a+" x", testSeverities); err == nil && c.Name != sc.name {
				t.Errorf("alias %q parsed as %q, want %q", a, c.Name, sc.name)
			}
		}
	}
}

// FuzzParse checks that any text parses into a known subcommand or a usage
// error that names one, and never panics.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "declare sev1 x", "lead <@U1|a>", "role comms <@W2>", "note \x00", "status", "sev SEV-1", "<@U1>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cmd, err := Parse(text, testSeverities)
		if err != nil {
			ue, ok := err.(*usageError)
			if !ok || ue.msg == "" {
				t.Fatalf("Parse(%q) error %v is not a usage error with a message", text, err)
			}
			if _, known := lookup(ue.usage); ue.usage != "" && !known {
				t.Fatalf("usage names unknown subcommand %q", ue.usage)
			}
			return
		}
		if _, ok := lookup(cmd.Name); !ok {
			t.Fatalf("Parse(%q) = unknown subcommand %q", text, cmd.Name)
		}
		if cmd.User != "" && !mentionRE.MatchString("<@"+cmd.User+">") {
			t.Fatalf("Parse(%q) user %q", text, cmd.User)
		}
	})
}

func TestClosestSubcommand(t *testing.T) {
	tests := []struct {
		word, want string // want "" for no suggestion
	}{
		{"delcare", "declare"},
		{"declar", "declare"},
		{"decalre", "declare"},
		{"lsit", "list"},
		{"stauts", "status"},
		{"serverity", "severity"},
		{"folowup", "followup"},
		{"postmortum", "postmortem"},
		{"timline", "timeline"},
		{"resovle", "resolve"},
		{"frobnicate", ""},
		{"x", ""},
		{"id", ""}, // too short to tell
		{"zzzz", ""},
	}
	for _, tt := range tests {
		got, ok := closest(tt.word)
		if (tt.want == "") == ok || got != tt.want && ok {
			t.Errorf("closest(%q) = %q, %v; want %q", tt.word, got, ok, tt.want)
		}
	}
}
