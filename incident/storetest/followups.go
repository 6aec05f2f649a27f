package storetest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep-dev/sitrep/incident"
)

// A follow-up's tracker request (ExportTo) and its issue, once made, are
// stored with it and read back by every handle: the request is recorded
// before the tracker is called, so a restart, or another replica, must
// find it to make the issue once.
func (s suite) testFollowUpIssues(t *testing.T) {
	ctx := context.Background()
	st, other := s.handles(t)
	inc := WithParts("Certificate expired")
	if err := st.Create(ctx, inc, Declared(inc)); err != nil {
		t.Fatal(err)
	}
	if got := get(t, other, inc.Number).FollowUps; len(got) != 2 || got[1].ExportTo != "jira" || got[1].Issue != (incident.IssueRef{}) {
		t.Fatalf("a follow-up asked for in Jira reads back as %+v", got)
	}
	issue := incident.IssueRef{Tracker: "jira", Key: "OPS-7", URL: "https://acme.atlassian.net/browse/OPS-7"}
	updated, err := st.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
		i.FollowUps[1].ExportTo, i.FollowUps[1].Issue = "", issue
		i.FollowUps[0].ExportTo = "github"
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []incident.Store{st, other} {
		got := get(t, h, inc.Number)
		if diff := cmp.Diff(updated, got); diff != "" {
			t.Errorf("Update's result and Get differ (-update +get):\n%s", diff)
		}
		if f := got.FollowUps[1]; f.Issue != issue || f.ExportTo != "" || !f.Tracked() {
			t.Errorf("the follow-up with its issue reads back as %+v", f)
		}
		if f := got.FollowUps[0]; f.ExportTo != "github" || f.Issue != (incident.IssueRef{}) {
			t.Errorf("the follow-up asked for in GitHub reads back as %+v", f)
		}
	}
}
