package client

// Ptr returns a pointer to v, for the optional fields of the models:
// LeadCreate{Phone: client.Ptr("+11235550199")}.
func Ptr[T any](v T) *T { return &v }
