package bot

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
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
}

// usageError is a slash text that cannot be parsed. The bot shows the message
// and the subcommand's usage.
type usageError struct {
	msg   string
	usage string // the usage line of the subcommand, or "" for the whole help
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
	{name: "status", args: "<investigating|identified|monitoring>", help: "Set the status.", inIncident: true, parse: parseStatus},
	{name: "severity", aliases: []string{"sev"}, args: "<severity>", help: "Set the severity.", inIncident: true, parse: parseSeverity},
	{name: "lead", aliases: []string{"ic", "commander"}, args: "@user", help: "Name the incident commander.", inIncident: true, parse: parseLead},
	{name: "role", args: "<role> @user", help: "Assign a role (comms, scribe, ...).", inIncident: true, parse: parseRole},
	{name: "note", args: "<text>", help: "Add an entry to the timeline.", inIncident: true, parse: textArg("note")},
	{name: "update", args: "[text]", help: "Post a status update to the channel and the announcement channel. Without text, opens a form.", inIncident: true, parse: optionalText},
	{name: "checklist", help: "Post the triage checklist at the bottom of the channel.", inIncident: true, parse: noArgs},
	{name: "followup", aliases: []string{"follow-up"}, args: "<text> [@owner]", help: "Record a follow-up (an action item for after the incident), optionally with its owner.", inIncident: true, parse: parseFollowUp},
	{name: "timeline", help: "Show the timeline and follow-ups (only to you).", inIncident: true, parse: noArgs},
	{name: "alerts", help: "List the incident's alerts, with their labels (only to you).", inIncident: true, parse: noArgs},
	{name: "resolve", args: "[summary]", help: "Resolve the incident, optionally with a summary.", inIncident: true, parse: optionalText},
	{name: "reopen", args: "[reason]", help: "Reopen a resolved incident.", inIncident: true, parse: optionalText},
	{name: "postmortem", help: "Render the postmortem from the timeline and upload it to the channel.", inIncident: true, parse: noArgs},
	{name: "close", help: "Close a resolved incident once its postmortem is published.", inIncident: true, parse: noArgs},
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
		return Command{}, &usageError{msg: fmt.Sprintf("I don't know the subcommand %q.", word)}
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

// sevLike matches words that can only be meant as a severity, so that a
// mistyped "sev7" is reported rather than taken as part of the title.
var sevLike = regexp.MustCompile(`^(?i)sev-?\d+$`)

func parseDeclare(cmd *Command, args string, severities []string) error {
	first, rest := cut(args)
	lower := strings.ToLower(first)
	switch {
	case slices.Contains(severities, lower):
		cmd.Severity, args = lower, rest
	case sevLike.MatchString(first):
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
