package statuspage

import (
	"encoding/xml"
	"html"
	"strings"
)

// The history feed is Atom (RFC 4287): one entry per incident, its content
// every public update, newest first, as Statuspage's history.atom has it,
// so that feed readers and chat integrations that follow a status page
// follow this one.

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomAuthor  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	ID        string      `xml:"id"`
	Title     string      `xml:"title"`
	Published string      `xml:"published"`
	Updated   string      `xml:"updated"`
	Links     []atomLink  `xml:"link"`
	Content   atomContent `xml:"content"`
}

type atomContent struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

// Atom renders the history feed. Text is escaped twice over: once into
// HTML by this function, then by encoding/xml into the feed, so a message
// holding markup reaches a reader as the text it was.
func (v *View) Atom() ([]byte, error) {
	f := atomFeed{
		ID:      "tag:sitrep," + v.Generated.Format("2006") + ":" + v.pageID() + ":history",
		Title:   v.Name + " status history",
		Updated: isoTime(v.LastModified),
		Author:  atomAuthor{Name: v.Name},
	}
	if v.URL != "" {
		f.Links = []atomLink{{Rel: "alternate", Type: "text/html", Href: v.URL + "/"}, {Rel: "self", Type: "application/atom+xml", Href: v.URL + "/history.atom"}}
	}
	for _, inc := range v.Incidents {
		var b strings.Builder
		for _, u := range inc.Updates {
			b.WriteString("<p><small>" + html.EscapeString(u.At.In(v.loc).Format("Jan 2, 15:04 MST")) + "</small><br><strong>" +
				html.EscapeString(u.Status.Label()) + "</strong> - " +
				strings.ReplaceAll(html.EscapeString(u.Body), "\n", "<br>") + "</p>")
		}
		e := atomEntry{
			ID:        "tag:sitrep," + inc.CreatedAt.Format("2006") + ":" + v.pageID() + ":incident:" + inc.ID,
			Title:     inc.Name,
			Published: isoTime(inc.CreatedAt),
			Updated:   isoTime(inc.UpdatedAt),
			Content:   atomContent{Type: "html", Body: b.String()},
		}
		if v.URL != "" {
			e.Links = []atomLink{{Rel: "alternate", Type: "text/html", Href: v.incidentURL(inc)}}
		}
		f.Entries = append(f.Entries, e)
	}
	out, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), out...), nil
}
