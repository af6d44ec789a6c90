package server

import (
	"context"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/genserver"
)

func (h *handlers) ListSuppressions(ctx context.Context, r genserver.ListSuppressionsRequestObject) (genserver.ListSuppressionsResponseObject, error) {
	q := query(r.Params.Page, r.Params.Limit, (*string)(r.Params.Sort), (*string)(r.Params.Order))
	var reason axiom.SuppressionReason
	if r.Params.Reason != nil {
		reason = axiom.SuppressionReason(*r.Params.Reason)
	}
	page, err := h.campaigns.Suppressions(ctx, accountID(ctx), q, reason)
	if err != nil {
		return nil, err
	}
	data := make([]gen.Suppression, len(page.Items))
	for i, s := range page.Items {
		data[i] = suppressionToAPI(s)
	}
	return genserver.ListSuppressions200JSONResponse{Body: gen.SuppressionList{Data: data, Length: len(data), HasMore: &page.HasMore}}, nil
}

func (h *handlers) AddSuppression(ctx context.Context, r genserver.AddSuppressionRequestObject) (genserver.AddSuppressionResponseObject, error) {
	b := r.Body
	detail := ""
	if b.Detail != nil {
		detail = *b.Detail
	}
	s, added, err := h.campaigns.AddSuppression(ctx, accountID(ctx), b.Email, axiom.SuppressionReason(b.Reason), detail)
	if err != nil {
		return nil, err
	}
	env := gen.SuppressionEnvelope{Data: suppressionToAPI(s)}
	if !added {
		return genserver.AddSuppression200JSONResponse{Body: env}, nil
	}
	return genserver.AddSuppression201JSONResponse{Body: env}, nil
}

func (h *handlers) GetSuppression(ctx context.Context, r genserver.GetSuppressionRequestObject) (genserver.GetSuppressionResponseObject, error) {
	s, err := h.campaigns.Suppression(ctx, accountID(ctx), r.Email)
	if err != nil {
		return nil, err
	}
	return genserver.GetSuppression200JSONResponse{Body: gen.SuppressionEnvelope{Data: suppressionToAPI(s)}}, nil
}

func (h *handlers) DeleteSuppression(ctx context.Context, r genserver.DeleteSuppressionRequestObject) (genserver.DeleteSuppressionResponseObject, error) {
	if err := h.campaigns.RemoveSuppression(ctx, accountID(ctx), r.Email); err != nil {
		return nil, err
	}
	return genserver.DeleteSuppression204Response{}, nil
}

// suppressionToAPI is an entry as the API shows it: an erased one with
// email null and its hash only.
func suppressionToAPI(s axiom.Suppression) gen.Suppression {
	out := gen.Suppression{
		EmailSha256: s.Key, Reason: gen.SuppressionReason(s.Reason), Detail: s.Detail, CreatedAt: s.CreatedAt.UTC(),
		ErasedAt: utcPtr(s.ErasedAt),
	}
	if s.Email != "" {
		out.Email = &s.Email
	}
	if s.CampaignID != "" {
		out.CampaignID = &s.CampaignID
	}
	return out
}
