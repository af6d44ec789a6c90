package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/axiomkit/axiom/server/store/storetest"
)

func TestCampaignStoreFile(t *testing.T) {
	storetest.RunCampaigns(t, func(t *testing.T) storetest.CampaignBackend {
		return open(t, filepath.Join(t.TempDir(), "axiom.db"))
	})
}

func TestCampaignStoreMemory(t *testing.T) {
	storetest.RunCampaigns(t, func(t *testing.T) storetest.CampaignBackend { return open(t, Memory) })
}
