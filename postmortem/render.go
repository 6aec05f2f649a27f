package postmortem

import (
	"bufio"
	"fmt"
	"io"
	"text/template"
)

// Render writes the postmortem of v through t, a template parsed with
// Funcs (templates.Postmortem returns one).
func Render(w io.Writer, t *template.Template, v View) error {
	// The template writes many small pieces; buffering them spares a
	// file or upload writer thousands of small writes.
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := t.Execute(bw, v); err != nil {
		return fmt.Errorf("render postmortem %d: %w", v.Number, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write postmortem %d: %w", v.Number, err)
	}
	return nil
}
