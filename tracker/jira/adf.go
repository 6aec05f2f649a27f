package jira

import (
	"regexp"
	"strings"
)

// node is a node of an Atlassian Document Format document.
type node struct {
	Type    string         `json:"type"`
	Version int            `json:"version,omitempty"`
	Text    string         `json:"text,omitempty"`
	Marks   []mark         `json:"marks,omitempty"`
	Attrs   map[string]any `json:"attrs,omitempty"`
	Content []node         `json:"content,omitempty"`
}

type mark struct {
	Type  string         `json:"type"`
	Attrs map[string]any `json:"attrs,omitempty"`
}

// inline is the Markdown Sitrep writes inline: links, strong, code.
var inline = regexp.MustCompile("\\[((?:[^\\]\\\\]|\\\\.)*)\\]\\(([^)\\s]+)\\)|\\*\\*((?:[^*\\\\]|\\\\.)+)\\*\\*|`([^`]+)`")

// mdEscape is Markdown's backslash escape, undone for plain text.
var mdEscape = regexp.MustCompile(`\\([!-/:-@\[-` + "`" + `{-~])`)

// ADF turns the Markdown of an issue's body into a document: paragraphs at
// blank lines, line breaks as hard breaks, and links, strong text and code
// as marks. Other Markdown is left as the text it is, which reads the same.
// Jira rejects empty text nodes, so none is made.
func ADF(md string) node {
	doc := node{Type: "doc", Version: 1, Content: []node{}}
	for _, para := range strings.Split(strings.ReplaceAll(md, "\r\n", "\n"), "\n\n") {
		para = strings.Trim(para, "\n")
		if strings.TrimSpace(para) == "" {
			continue
		}
		if strings.TrimSpace(para) == "---" {
			doc.Content = append(doc.Content, node{Type: "rule"})
			continue
		}
		p := node{Type: "paragraph"}
		for i, line := range strings.Split(para, "\n") {
			line = strings.TrimSuffix(line, "\\") // Markdown's hard break
			if i > 0 {
				p.Content = append(p.Content, node{Type: "hardBreak"})
			}
			p.Content = append(p.Content, inlineNodes(line)...)
		}
		if len(p.Content) > 0 {
			doc.Content = append(doc.Content, p)
		}
	}
	return doc
}

func inlineNodes(s string) []node {
	var out []node
	text := func(t string, marks ...mark) {
		if t = mdEscape.ReplaceAllString(t, "$1"); t != "" {
			out = append(out, node{Type: "text", Text: t, Marks: marks})
		}
	}
	last := 0
	for _, m := range inline.FindAllStringSubmatchIndex(s, -1) {
		text(s[last:m[0]])
		switch {
		case m[2] >= 0:
			label := s[m[2]:m[3]]
			if label == "" {
				label = s[m[4]:m[5]]
			}
			text(label, mark{Type: "link", Attrs: map[string]any{"href": s[m[4]:m[5]]}})
		case m[6] >= 0:
			text(s[m[6]:m[7]], mark{Type: "strong"})
		case m[8] >= 0:
			// Code is literal: no escapes to undo.
			out = append(out, node{Type: "text", Text: s[m[8]:m[9]], Marks: []mark{{Type: "code"}}})
		}
		last = m[1]
	}
	text(s[last:])
	return out
}
