// Package templates holds Sitrep's embedded document templates and loads
// them, preferring a file of the same name in a configured override
// directory so that a team can reshape its documents without a rebuild. It
// also holds the default triage checklist, which a config file replaces as
// a whole.
package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"text/template"

	"go.yaml.in/yaml/v3"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/postmortem"
)

// FS holds the embedded templates and the default checklist.
//
//go:embed *.tmpl checklist.yaml
var FS embed.FS

// ChecklistFile is the default triage checklist's file name.
const ChecklistFile = "checklist.yaml"

// embeddedChecklist parses the embedded checklist once.
var embeddedChecklist = sync.OnceValues(func() ([]incident.ChecklistItem, error) {
	src, err := FS.ReadFile(ChecklistFile)
	if err != nil {
		return nil, err
	}
	return parseChecklist(ChecklistFile, src)
})

// Checklist returns the default triage checklist, the embedded
// ChecklistFile. It is parsed once; each caller gets its own copy of the
// items, so that none can change another's. It is not validated against
// any severities: incident.Config.Validate does that with the configured
// ones.
func Checklist() ([]incident.ChecklistItem, error) {
	items, err := embeddedChecklist()
	if err != nil {
		return nil, err
	}
	return slices.Clone(items), nil
}

// parseChecklist decodes a checklist strictly: an unknown key is more
// likely a typo (sugestion:) than something to ignore.
func parseChecklist(name string, src []byte) ([]incident.ChecklistItem, error) {
	var items []incident.ChecklistItem
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&items); err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("empty")
		}
		return nil, fmt.Errorf("parse checklist %s: %w", name, err)
	}
	// A second document would be ignored by Decode; say so instead.
	var more any
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse checklist %s: one YAML document only", name)
	}
	return items, nil
}

// PostmortemFile is the postmortem template's file name, embedded and in an
// override directory.
const PostmortemFile = "postmortem.md.tmpl"

// embeddedPostmortem parses the embedded template once: it cannot change,
// and a parsed template is safe to execute concurrently.
var embeddedPostmortem = sync.OnceValues(func() (*template.Template, error) {
	src, err := FS.ReadFile(PostmortemFile)
	if err != nil {
		return nil, err
	}
	return parse(PostmortemFile, src)
})

// Postmortem returns the postmortem template, with postmortem.Funcs: the
// file PostmortemFile in overrideDir when there is one, else the embedded
// template. An override is read on every call, so that an edit shows in the
// next postmortem without a restart. overrideDir may be "".
func Postmortem(overrideDir string) (*template.Template, error) {
	if overrideDir != "" {
		path := filepath.Join(overrideDir, PostmortemFile)
		src, err := os.ReadFile(path)
		switch {
		case err == nil:
			return parse(path, src)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("read postmortem template: %w", err)
		}
	}
	return embeddedPostmortem()
}

// parse names the template by its path so that a parse or execution error
// says which file is at fault.
func parse(name string, src []byte) (*template.Template, error) {
	t, err := template.New(name).Funcs(postmortem.Funcs()).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("parse postmortem template %s: %w", name, err)
	}
	return t, nil
}

// StatusPageFile is the public status page's template file name, embedded
// and in an override directory.
const StatusPageFile = "status.html.tmpl"

// StatusPage returns the status page's HTML template with funcs: the file
// StatusPageFile in overrideDir when there is one, else the embedded one.
// The status page calls it once per change, so an edit to an override
// shows at the next change without a restart. overrideDir may be "".
func StatusPage(overrideDir string, funcs htmltemplate.FuncMap) (*htmltemplate.Template, error) {
	name, src := StatusPageFile, []byte(nil)
	if overrideDir != "" {
		path := filepath.Join(overrideDir, StatusPageFile)
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			name, src = path, b
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("read status page template: %w", err)
		}
	}
	if src == nil {
		b, err := FS.ReadFile(StatusPageFile)
		if err != nil {
			return nil, err
		}
		src = b
	}
	t, err := htmltemplate.New(name).Funcs(funcs).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("parse status page template %s: %w", name, err)
	}
	for _, want := range []string{"index", "incident"} {
		if t.Lookup(want) == nil {
			return nil, fmt.Errorf("status page template %s: it must define %q", name, want)
		}
	}
	return t, nil
}
