package bot

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Command is a slash command's text, parsed. Only the fields its subcommand
// uses are set.
type Command struct {
	Name     string // canonical subcommand name: "declare", "status", ...
	Severity string
	Title    string
	Status   string
	Role     string
	User     string // a user ID taken from a mention
	Text     string
	// Schedule names an on-call schedule (oncall, page); Override is set
	// for "oncall override", For its duration; Target is whom page
	// pages (user:<id> or schedule:<name>).
	Schedule string
	Override bool
	For      time.Duration
	Target   string
}

// usageError is a slash text that cannot be parsed. The bot shows the message
// and the subcommand's usage.
type usageError struct {
	msg   string
	usage string // the usage line of the subcommand, or "" for the whole help
	// suggest is what was typed with the unknown subcommand replaced by
	// the one it was probably meant as ("delcare sev1 X": "declare sev1
	// X"), or "".
	suggest string
}

func (e *usageError) Error() string { return e.msg }

// subcommand is one row of the table the parser and the help text are both
// generated from, so they cannot drift apart.
type subcommand struct {
	name    string
	aliases []string
	args    string // argument synopsis for the usage line
	help    string
	// inIncident is true for subcommands that act on the incident whose
	// channel they are typed in.
	inIncident bool
	parse      func(cmd *Command, args string, severities []string) error
}

// subcommands is the command table, in the order help lists it.
var subcommands = []subcommand{
	{name: "help", help: "Show this help.", parse: noArgs},
	{name: "declare", args: "[severity] [title]", help: "Declare an incident: opens its channel and makes you commander. Without a title, opens a form.", parse: parseDeclare},
	{name: "list", help: "List open incidents, newest first.", parse: noArgs},
	{name: "thirdparty", aliases: []string{"third-party", "vendors"}, help: "Show the configured third parties' status pages and their open incidents (only to you).", parse: noArgs},
	{name: "status", args: "<investigating|identified|monitoring>", help: "Set the status.", inIncident: true, parse: parseStatus},
	{name: "severity", aliases: []string{"sev"}, args: "<severity>", help: "Set the severity.", inIncident: true, parse: parseSeverity},
	{name: "lead", aliases: []string{"ic", "commander"}, args: "@user", help: "Name the incident commander.", inIncident: true, parse: parseLead},
	{name: "role", args: "<role> @user", help: "Assign a role (comms, scribe, cs, ...).", inIncident: true, parse: parseRole},
	{name: "note", args: "<text>", help: "Add an entry to the timeline.", inIncident: true, parse: textArg("note")},
	{name: "update", args: "[text]", help: "Post a status update to the channel and the announcement channel. Without text, opens a form.", inIncident: true, parse: optionalText},
	{name: "checklist", help: "Post the triage checklist at the bottom of the channel.", inIncident: true, parse: noArgs},
	{name: "followup", aliases: []string{"follow-up"}, args: "<text> [@owner]", help: "Record a follow-up (an action item for after the incident), optionally with its owner.", inIncident: true, parse: parseFollowUp},
	{name: "impact", args: "<text>", help: "Record who and what is affected (on the card and in the postmortem). Again to change it.", inIncident: true, parse: textArg("impact")},
	{name: "rootcause", aliases: []string{"root-cause", "cause"}, args: "<text>", help: "Record the root cause, for the postmortem. Again to change it.", inIncident: true, parse: textArg("root cause")},
	{name: "learning", aliases: []string{"learned"}, args: "<text>", help: "Add a learning to the postmortem.", inIncident: true, parse: textArg("learning")},
	{name: "timeline", help: "Show the timeline and follow-ups (only to you).", inIncident: true, parse: noArgs},
	{name: "alerts", help: "List the incident's alerts, with their labels (only to you).", inIncident: true, parse: noArgs},
	{name: "publish", help: "Publish an update to the public status page: opens a form prefilled from the incident (public title, status, components, message). With approval on, a draft the commander or comms approves.", inIncident: true, parse: noArgs},
	{name: "resolve", args: "[summary]", help: "Resolve the incident. Without a summary, opens a form: summary, impact, root cause, what mitigated it.", inIncident: true, parse: optionalText},
	{name: "reopen", args: "[reason]", help: "Reopen a resolved incident.", inIncident: true, parse: optionalText},
	{name: "postmortem", help: "Opens a form for the review (root cause, contributing factors, what went well and badly, learnings, remediations), then writes the postmortem and uploads it to the channel; a draft while the incident is open.", inIncident: true, parse: noArgs},
	{name: "close", help: "Close a resolved incident once its postmortem is published.", inIncident: true, parse: noArgs},
	{name: "page", args: "<@user|schedule> [message]", help: "Page someone, or whoever is on call for a schedule: a direct message with Acknowledge.", inIncident: true, parse: parsePage},
	{name: "oncall", aliases: []string{"on-call"}, args: "[schedule] | override <schedule> @user <duration>", help: "Show who is on call now and next; or put someone on call from now, for a duration such as 8h or 2d.", parse: parseOnCall},
}

func lookup(word string) (subcommand, bool) {
	for _, sc := range subcommands {
		if sc.name == word || slices.Contains(sc.aliases, word) {
			return sc, true
		}
	}
	return subcommand{}, false
}

// usage returns the usage line of sc for the command name cmdName ("/incident").
func (sc subcommand) usage(cmdName string) string {
	u := cmdName + " " + sc.name
	if sc.args != "" {
		u += " " + sc.args
	}
	return u
}

// Parse turns slash text into a Command. severities are the configured
// severity names, needed to tell "declare sev1 Title" from "declare Title".
// Empty text is "help". Errors are *usageError.
func Parse(text string, severities []string) (Command, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return Command{Name: "help"}, nil
	}
	word, rest := cut(text)
	sc, ok := lookup(strings.ToLower(word))
	if !ok {
		ue := &usageError{msg: fmt.Sprintf("I don't know the subcommand %q.", word)}
		if near, ok := closest(strings.ToLower(word)); ok {
			ue.usage, ue.suggest = near, strings.TrimSpace(near+" "+truncate(rest, 100))
		}
		return Command{}, ue
	}
	cmd := Command{Name: sc.name}
	if err := sc.parse(&cmd, rest, severities); err != nil {
		if ue, ok := err.(*usageError); ok && ue.usage == "" {
			ue.usage = sc.name
		}
		return Command{}, err
	}
	return cmd, nil
}

// cut splits off the first white-space separated word.
func cut(s string) (word, rest string) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, isSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\u00a0' }

func noArgs(cmd *Command, args string, _ []string) error { return nil }

func optionalText(cmd *Command, args string, _ []string) error {
	cmd.Text = args
	return nil
}

func textArg(what string) func(*Command, string, []string) error {
	return func(cmd *Command, args string, _ []string) error {
		if args == "" {
			return &usageError{msg: fmt.Sprintf("The %s is empty; say what to record.", what)}
		}
		cmd.Text = args
		return nil
	}
}

// closest returns the subcommand (or alias) an unknown word was most
// likely meant as: one a typo away (a letter missing, extra, wrong, or two
// swapped), or two for longer words. It reports false when none is that
// close, or when two are equally close and so neither is clearly meant.
func closest(word string) (string, bool) {
	n := utf8.RuneCountInString(word)
	if n < 3 {
		return "", false // one letter off a short word is any word
	}
	limit := 1
	if n >= 6 {
		limit = 2
	}
	best, bestDist, tied := "", limit+1, false
	for _, sc := range subcommands {
		for _, name := range append([]string{sc.name}, sc.aliases...) {
			switch d := typoDistance(word, name); {
			case d < bestDist:
				best, bestDist, tied = sc.name, d, false
			case d == bestDist && sc.name != best:
				tied = true
			}
		}
	}
	return best, best != "" && !tied
}

// typoDistance is the optimal string alignment distance between a and b:
// the insertions, deletions, substitutions and swaps of neighbours that
// turn one into the other.
func typoDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// sevLike matches words that can only be meant as a severity, so that a
// mistyped "sev7" is reported rather than taken as part of the title.
var sevLike = regexp.MustCompile(`^(?i)sev-?\d+$`)

// sevNumber matches a severity given by its number: "sev1", "SEV-1", or,
// where nothing but a severity is expected, "1".
var sevNumber = regexp.MustCompile(`^(?i)(sev-?)?(\d+)$`)

// leadingSeverity reads a severity at the start of args, as people type
// it: a configured name in any case ("SEV1"), "sev-1", or "sev 1" for sev1.
// A bare number ("1") counts only when bare is set, where nothing else
// could be meant. It returns the configured name and the rest of args, or
// ok false when args does not start with a configured severity.
func leadingSeverity(args string, severities []string, bare bool) (sev, rest string, ok bool) {
	first, rest := cut(args)
	if strings.EqualFold(first, "sev") {
		// "sev 1": the number is the next word.
		if num, after := cut(rest); num != "" && strings.Trim(num, "0123456789") == "" {
			first, rest = "sev"+num, after
		}
	}
	if lower := strings.ToLower(first); slices.Contains(severities, lower) {
		return lower, rest, true
	}
	if m := sevNumber.FindStringSubmatch(first); m != nil && (bare || m[1] != "") {
		if name := "sev" + m[2]; slices.Contains(severities, name) {
			return name, rest, true
		}
	}
	return "", args, false
}

func parseDeclare(cmd *Command, args string, severities []string) error {
	if sev, rest, ok := leadingSeverity(args, severities, false); ok {
		cmd.Severity, cmd.Title = sev, rest // no title: the declare form asks for it
		return nil
	}
	first, rest := cut(args)
	if num, _ := cut(rest); strings.EqualFold(first, "sev") && num != "" && strings.Trim(num, "0123456789") == "" {
		first += " " + num
	}
	if sevLike.MatchString(strings.ReplaceAll(first, " ", "")) {
		return &usageError{msg: fmt.Sprintf("%q is not a severity. Use one of: %s.", first, strings.Join(severities, ", "))}
	}
	cmd.Title = args // empty: the declare form asks for it
	return nil
}

func parseStatus(cmd *Command, args string, _ []string) error {
	word, rest := cut(args)
	if word == "" || rest != "" {
		return &usageError{msg: "Give exactly one status."}
	}
	cmd.Status = strings.ToLower(word)
	return nil
}

func parseSeverity(cmd *Command, args string, severities []string) error {
	if sev, rest, ok := leadingSeverity(args, severities, true); ok && rest == "" {
		cmd.Severity = sev
		return nil
	}
	word, rest := cut(args)
	if word == "" || rest != "" {
		return &usageError{msg: fmt.Sprintf("Give exactly one severity: %s.", strings.Join(severities, ", "))}
	}
	cmd.Severity = strings.ToLower(word)
	return nil
}

func parseLead(cmd *Command, args string, _ []string) error {
	user, err := oneMention(args)
	if err != nil {
		return err
	}
	cmd.Role, cmd.User = "commander", user
	return nil
}

func parseRole(cmd *Command, args string, _ []string) error {
	role, rest := cut(args)
	if role == "" || rest == "" {
		return &usageError{msg: "Give a role and a person."}
	}
	user, err := oneMention(rest)
	if err != nil {
		return err
	}
	cmd.Role, cmd.User = strings.ToLower(role), user
	return nil
}

// parseFollowUp reads "<text> [@owner]": a mention at the end names the
// owner; mentions elsewhere are part of the text.
func parseFollowUp(cmd *Command, args string, _ []string) error {
	if i := strings.LastIndexFunc(args, isSpace); i >= 0 {
		if m := mentionRE.FindStringSubmatch(args[i+1:]); m != nil {
			cmd.User, args = m[1], strings.TrimSpace(args[:i])
		}
	} else if m := mentionRE.FindStringSubmatch(args); m != nil {
		return &usageError{msg: "Say what needs doing, then who owns it."}
	}
	if args == "" {
		return &usageError{msg: "The follow-up is empty; say what needs doing."}
	}
	cmd.Text = args
	return nil
}

// mentionRE matches an escaped user mention as Slack sends it when the
// command has should_escape: <@U123> or <@U123|name>.
var mentionRE = regexp.MustCompile(`^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$`)

func oneMention(s string) (string, error) {
	word, rest := cut(s)
	switch {
	case word == "":
		return "", &usageError{msg: "Say who: type @ and pick the person."}
	case rest != "":
		return "", &usageError{msg: "Name exactly one person."}
	}
	m := mentionRE.FindStringSubmatch(word)
	if m == nil {
		return "", &usageError{msg: fmt.Sprintf("%q is not a mention of a person. Type @ and pick the person from Slack's list.", word)}
	}
	return m[1], nil
}

// helpText renders the usage of every subcommand, from the command table.
func helpText(cmdName string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*Sitrep: incident command.* Subcommands marked ◦ work inside an incident channel.\n")
	for _, sc := range subcommands {
		mark := " "
		if sc.inIncident {
			mark = "◦"
		}
		fmt.Fprintf(&b, "%s `%s` %s\n", mark, sc.usage(cmdName), sc.help+aliasNote(sc))
	}
	return b.String()
}

func aliasNote(sc subcommand) string {
	if len(sc.aliases) == 0 {
		return ""
	}
	return " Also: " + strings.Join(sc.aliases, ", ") + "."
}
