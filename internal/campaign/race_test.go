//go:build race

package campaign_test

func init() { raceDetector = true }
