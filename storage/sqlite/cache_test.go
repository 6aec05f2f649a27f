package sqlite

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/incident/storetest"
)

// TestCloneIncidentIsDeep fails when Incident gains a field that holds
// references (a slice, a map, a pointer) which cloneIncident does not copy,
// or whose elements hold references of their own: a change made to a copy
// handed out would then write into the cached incident.
func TestCloneIncidentIsDeep(t *testing.T) {
	var inc incident.Incident
	v := reflect.ValueOf(&inc).Elem()
	timeType := reflect.TypeOf(time.Time{})
	for i := range v.NumField() {
		f, sf := v.Field(i), v.Type().Field(i)
		switch f.Kind() {
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
			checkFlat(t, sf.Name, f.Type().Elem(), timeType)
		case reflect.Map:
			f.Set(reflect.MakeMap(f.Type()))
			f.SetMapIndex(reflect.New(f.Type().Key()).Elem(), reflect.New(f.Type().Elem()).Elem())
			checkFlat(t, sf.Name, f.Type().Elem(), timeType)
		case reflect.Pointer, reflect.Interface, reflect.Chan, reflect.Func:
			t.Errorf("Incident.%s is a %s: cloneIncident cannot copy it; copy it there and update this test", sf.Name, f.Kind())
		}
	}
	c := reflect.ValueOf(cloneIncident(&inc)).Elem()
	for i := range v.NumField() {
		f, cf, name := v.Field(i), c.Field(i), v.Type().Field(i).Name
		switch f.Kind() {
		case reflect.Slice:
			if cf.Len() != 1 || cf.Index(0).Addr().Pointer() == f.Index(0).Addr().Pointer() {
				t.Errorf("Incident.%s: the clone shares the original's elements; copy it in cloneIncident", name)
			}
		case reflect.Map:
			if cf.Len() != 1 || cf.Pointer() == f.Pointer() {
				t.Errorf("Incident.%s: the clone shares the original's map; copy it in cloneIncident", name)
			}
		}
	}
}

// checkFlat fails unless values of typ hold no references but times.
func checkFlat(t *testing.T, field string, typ, timeType reflect.Type) {
	t.Helper()
	if typ == timeType {
		return
	}
	switch typ.Kind() {
	case reflect.Struct:
		for i := range typ.NumField() {
			checkFlat(t, field+"."+typ.Field(i).Name, typ.Field(i).Type, timeType)
		}
	case reflect.Slice, reflect.Map, reflect.Pointer, reflect.Interface, reflect.Chan, reflect.Func, reflect.Array:
		t.Errorf("Incident.%s holds a %s: cloneIncident copies its container only; copy this too and update the test", field, typ.Kind())
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
	rename(db, "one")   // cached by db
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
