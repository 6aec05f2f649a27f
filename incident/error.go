package incident

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes. They say what kind of failure happened so that adapters can
// answer appropriately (an ephemeral hint for EINVALID, a log line and an
// apology for EINTERNAL) without parsing messages.
const (
	ECONFLICT  = "conflict"  // the action clashes with the incident's state
	EFORBIDDEN = "forbidden" // the actor may not do this
	EINTERNAL  = "internal"  // a bug or an infrastructure failure
	EINVALID   = "invalid"   // the input is wrong; the message says how
	ENOTFOUND  = "not_found" // the thing asked for does not exist
)

// Error is the domain's error. Message is written for the person who typed
// the command: it says what was wrong and, where it helps, what to do.
type Error struct {
	Code    string
	Message string
	// Field names the input at fault ("title", "severity", "text", ...),
	// so that forms can show the message next to it. "" when none is.
	Field string
	// People are the people the message concerns, by the part they play
	// ("commander", "admins"), as user IDs; the message stands "{part}"
	// where they are named. Hint is an action that would help, as the
	// subcommand and its arguments ("reopen", "lead @you"); the message
	// stands "{cmd}" where it is named. Each surface names people and
	// actions its own way (Text): the domain knows neither Slack's
	// mentions nor its slash command.
	People map[string][]string
	Hint   string
}

// Text words the message, naming people with who and the action with
// command.
func (e *Error) Text(who func(users []string) string, command func(action string) string) string {
	pairs := []string{"{cmd}", command(e.Hint)}
	for part, users := range e.People {
		pairs = append(pairs, "{"+part+"}", who(users))
	}
	return strings.NewReplacer(pairs...).Replace(e.Message)
}

// hintErrorf returns an *Error whose message names hint as "{cmd}".
func hintErrorf(code, hint, format string, args ...any) *Error {
	e := Errorf(code, format, args...)
	e.Hint = hint
	return e
}

func (e *Error) Error() string {
	return fmt.Sprintf("incident error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// fieldErrorf returns an EINVALID *Error about one input field.
func fieldErrorf(field, format string, args ...any) *Error {
	e := Errorf(EINVALID, format, args...)
	e.Field = field
	return e
}

// ErrorField returns the field of the first *Error in err's chain, or "".
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of the first *Error in err's
// chain, with people named by their IDs and actions quoted as typed
// (adapters word them their way with Error.Text). Other errors get a
// generic message: their text may hold details that are not for users.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Text(func(users []string) string { return strings.Join(users, ", ") },
			func(action string) string { return "`" + action + "`" })
	}
	return "Something went wrong on Sitrep's side. It has been logged; please try again."
}
