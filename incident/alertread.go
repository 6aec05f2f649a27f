package incident

// AlertKey names a recorded alert: its source and its key there.
type AlertKey struct {
	Source, Key string
}

// readAheadTx is an AlertTx whose Alert answers from one read of a whole
// batch's alerts made up front. Reading each alert's previous state with
// a query of its own was a tenth of taking a notification of ten alerts.
//
// Only what was read up front and not written since is answered from
// memory: PutAlert forgets the alert, so a second alert with the same key
// in the batch (or one a declaration attached meanwhile) is read from
// the transaction again, exactly as before.
type readAheadTx struct {
	AlertTx
	// known holds the batch's alerts as read up front: nil for one not
	// recorded. A key missing from it is asked of the transaction.
	known map[AlertKey]*StoredAlert
}

// readAhead reads the previous state of all of alerts in one query and
// returns tx answering Alert from it.
func readAhead(tx AlertTx, alerts []RoutedAlert) (AlertTx, error) {
	if len(alerts) < 2 {
		return tx, nil
	}
	keys := make([]AlertKey, 0, len(alerts))
	known := make(map[AlertKey]*StoredAlert, len(alerts))
	for _, a := range alerts {
		k := AlertKey{a.Source, a.Key}
		if _, dup := known[k]; !dup {
			known[k] = nil
			keys = append(keys, k)
		}
	}
	found, err := tx.Alerts(keys)
	if err != nil {
		return nil, err
	}
	for i := range found {
		k := AlertKey{found[i].Source, found[i].Key}
		if _, asked := known[k]; asked {
			known[k] = &found[i]
		}
	}
	return &readAheadTx{AlertTx: tx, known: known}, nil
}

func (t *readAheadTx) Alert(source, key string) (*StoredAlert, error) {
	k := AlertKey{source, key}
	a, ok := t.known[k]
	if !ok {
		return t.AlertTx.Alert(source, key)
	}
	if a == nil {
		return nil, nil
	}
	// A copy, as the transaction's Alert returns a new one each time.
	c := *a
	return &c, nil
}

func (t *readAheadTx) PutAlert(a *StoredAlert) error {
	delete(t.known, AlertKey{a.Source, a.Key})
	return t.AlertTx.PutAlert(a)
}
