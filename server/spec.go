package server

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/axiomkit/axiom/internal/genserver"
)

// LoadSpec parses the API description the generated code embeds: the
// document genserver.GetSwagger returns, in half the time or less. Parsing it is
// most of a server's start, and the first start of a test binary.
func LoadSpec() (*openapi3.T, error) {
	data, err := genserver.GetSpecJSON()
	if err != nil {
		return nil, fmt.Errorf("server: the API description: %w", err)
	}
	doc, err := decodeSpec(data)
	if err != nil {
		return nil, fmt.Errorf("server: the API description: %w", err)
	}
	if err := openapi3.NewLoader().ResolveRefsIn(doc, nil); err != nil {
		return nil, fmt.Errorf("server: the API description: %w", err)
	}
	return doc, nil
}

// decodeSpec decodes an OpenAPI document stored as JSON. kin-openapi's
// loader tries YAML first, and its (*T).UnmarshalJSON decodes the whole
// document a second time into generic values to find the extensions; here
// the top level is split instead, and components decode beside the rest.
func decodeSpec(data []byte) (*openapi3.T, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, err
	}
	doc := new(openapi3.T)
	fields := map[string]any{
		"openapi": &doc.OpenAPI, "info": &doc.Info, "paths": &doc.Paths, "security": &doc.Security,
		"servers": &doc.Servers, "tags": &doc.Tags, "externalDocs": &doc.ExternalDocs,
		"webhooks": &doc.Webhooks, "jsonSchemaDialect": &doc.JSONSchemaDialect,
	}
	var wg sync.WaitGroup
	var componentsErr error
	if raw, ok := top["components"]; ok {
		wg.Go(func() { componentsErr = json.Unmarshal(raw, &doc.Components) })
	}
	var err error
	for name, raw := range top {
		if name == "components" {
			continue
		}
		if dst, ok := fields[name]; ok {
			err = json.Unmarshal(raw, dst)
		} else {
			// As kin-openapi does: every other field is an extension.
			var v any
			err = json.Unmarshal(raw, &v)
			if doc.Extensions == nil {
				doc.Extensions = make(map[string]any)
			}
			doc.Extensions[name] = v
		}
		if err != nil {
			break
		}
	}
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if componentsErr != nil {
		return nil, componentsErr
	}
	return doc, nil
}
