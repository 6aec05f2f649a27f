// Package templates holds Sitrep's embedded document templates and loads
// them, preferring a file of the same name in a configured override
// directory so that a team can reshape its documents without a rebuild.
package templates

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"text/template"

	"github.com/sitrep-dev/sitrep/postmortem"
)

// FS holds the embedded templates.
//
//go:embed *.tmpl
var FS embed.FS

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
