package plugins

import (
	"encoding/json"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/encoding/protojson"

	providerv1 "github.com/stackagent/stackagent/proto/provider/v1"
	"github.com/stackagent/stackagent/proto/sdk"

	"github.com/stackagent/stackagent/internal/atomicfile"
)

// schemaCache keeps each plugin's schema in dir/<name>.schema.json with
// the checksum of the binary that declared it, so a run declares a
// plugin's kinds without starting it. It is only a cache: any error
// reading it means "ask the plugin".
type schemaCache struct{ dir string }

type cachedSchema struct {
	SHA256   string          `json:"sha256"`
	Protocol int             `json:"protocol"`
	Schema   json.RawMessage `json:"schema"` // protojson of provider.v1.SchemaResponse
}

// get returns the cached kinds of the plugin; with anyChecksum, those
// of whatever binary of that name declared them last (to declare, and
// fail, the resources of a plugin that failed its checksum).
func (c schemaCache) get(p Plugin, anyChecksum bool) ([]sdk.Kind, bool) {
	if c.dir == "" {
		return nil, false
	}
	b, err := os.ReadFile(c.path(p.Name))
	if err != nil {
		return nil, false
	}
	var cs cachedSchema
	if json.Unmarshal(b, &cs) != nil || cs.Protocol != sdk.ProtocolVersion || (!anyChecksum && cs.SHA256 != p.SHA256) {
		return nil, false
	}
	var resp providerv1.SchemaResponse
	if protojson.Unmarshal(cs.Schema, &resp) != nil {
		return nil, false
	}
	kinds, err := sdk.KindsFromPB(resp.GetKinds())
	return kinds, err == nil
}

// put stores the schema; a failure only costs a start next run.
func (c schemaCache) put(p Plugin, resp *providerv1.SchemaResponse) error {
	if c.dir == "" {
		return nil
	}
	raw, err := protojson.Marshal(resp)
	if err != nil {
		return err
	}
	b, err := json.Marshal(cachedSchema{SHA256: p.SHA256, Protocol: sdk.ProtocolVersion, Schema: raw})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(c.path(p.Name), b, 0o600)
}

func (c schemaCache) path(name string) string { return filepath.Join(c.dir, name+".schema.json") }
