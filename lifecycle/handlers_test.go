package lifecycle

import "testing"

// TestEveryEventTypeHasAHandler: the handler table names each event type
// the schema accepts, so no type falls through to the default by mistake.
func TestEveryEventTypeHasAHandler(t *testing.T) {
	t.Parallel()
	table := (&Daemon{}).handlers()
	for _, typ := range eventTypes {
		if table[typ] == nil {
			t.Errorf("event type %s has no handler", typ)
		}
	}
	if len(table) != len(eventTypes) {
		t.Errorf("%d handlers for %d event types", len(table), len(eventTypes))
	}
}
