package postmortem

import (
	"bytes"
	"fmt"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// HTML converts a rendered postmortem to an HTML fragment, with GitHub's
// tables and task lists. Raw HTML is not enabled: goldmark omits any HTML
// in the Markdown and drops dangerous link targets, a second line of
// defence behind the escaping that Markdown already does to user text.
func HTML(md []byte) ([]byte, error) {
	conv := goldmark.New(goldmark.WithExtensions(extension.Table, extension.TaskList))
	var buf bytes.Buffer
	buf.Grow(len(md) + len(md)/2)
	if err := conv.Convert(md, &buf); err != nil {
		return nil, fmt.Errorf("convert postmortem to html: %w", err)
	}
	return buf.Bytes(), nil
}
