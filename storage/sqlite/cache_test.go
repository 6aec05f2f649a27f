package sqlite

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/incident/storetest"
)

var timeType = reflect.TypeOf(time.Time{})

// TestCloneIncidentIsDeep fails when Incident gains a field holding
// references (a slice or a map, at any depth) that cloneIncident does not
// copy, or one it cannot copy (a pointer, an interface): a change made to a
// copy handed out would then write into the cached incident.
func TestCloneIncidentIsDeep(t *testing.T) {
	var inc incident.Incident
	fill(t, reflect.ValueOf(&inc).Elem(), "Incident")
	shares(t, reflect.ValueOf(&inc).Elem(), reflect.ValueOf(cloneIncident(&inc)).Elem(), "Incident")
}

// fill gives every slice in v one element and every map one entry, at any
// depth, so that sharing shows.
func fill(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	if v.Type() == timeType {
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			fill(t, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(t, v.Index(0), path)
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem())
		checkFlat(t, path, v.Type().Elem())
	case reflect.Pointer, reflect.Interface, reflect.Chan, reflect.Func, reflect.Array:
		t.Errorf("%s is a %s: cloneIncident cannot copy it; copy it there and update this test", path, v.Kind())
	}
}

// shares fails where clone shares memory with orig.
func shares(t *testing.T, orig, clone reflect.Value, path string) {
	t.Helper()
	if orig.Type() == timeType {
		return
	}
	switch orig.Kind() {
	case reflect.Struct:
		for i := range orig.NumField() {
			shares(t, orig.Field(i), clone.Field(i), path+"."+orig.Type().Field(i).Name)
		}
	case reflect.Slice:
		if clone.Len() != 1 || clone.Index(0).Addr().Pointer() == orig.Index(0).Addr().Pointer() {
			t.Errorf("%s: the clone shares the original's elements; copy it in cloneIncident", path)
			return
		}
		shares(t, orig.Index(0), clone.Index(0), path)
	case reflect.Map:
		if clone.Len() != 1 || clone.Pointer() == orig.Pointer() {
			t.Errorf("%s: the clone shares the original's map; copy it in cloneIncident", path)
		}
	}
}

// checkFlat fails unless values of typ hold no references but times.
func checkFlat(t *testing.T, path string, typ reflect.Type) {
	t.Helper()
	if typ == timeType {
		return
	}
	switch typ.Kind() {
	case reflect.Struct:
		for i := range typ.NumField() {
			checkFlat(t, path+"."+typ.Field(i).Name, typ.Field(i).Type)
		}
	case reflect.Slice, reflect.Map, reflect.Pointer, reflect.Interface, reflect.Chan, reflect.Func, reflect.Array:
		t.Errorf("%s: a map's values hold a %s; copy them in cloneIncident and update this test", path, typ.Kind())
	}
}

// TestChangeSeesOtherProcesses: an incident changed by another process
// (another handle on the file) is read afresh, not taken from the cache.
func TestChangeSeesOtherProcesses(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t)
	other := openPath(t, path)
	inc := storetest.Create(t, db, "Checkout failing")
	rename := func(st *DB, title string) {
		t.Helper()
		if _, err := st.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
			i.Title = title
			return nil, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	rename(db, "one")    // cached by db
	rename(other, "two") // db's copy is now stale
	got, err := db.Update(ctx, inc.Number, func(i *incident.Incident) ([]incident.Event, error) {
		if i.Title != "two" {
			t.Errorf("the change started from title %q, want the other process's %q", i.Title, "two")
		}
		i.Summary = "three"
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "two" || got.Version != 4 {
		t.Errorf("after: %q v%d, want %q v4", got.Title, got.Version, "two")
	}
}
