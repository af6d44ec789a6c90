package client

import (
	"fmt"
	"iter"
	"slices"
)

// maxPageSize is the largest limit the API accepts; All uses it by default
// to spend as few requests of the rate limit as possible.
const maxPageSize = 100

// pageBounds returns the first page and the page size of an iteration.
func pageBounds(page, limit *int) (first, size int) {
	first, size = 1, maxPageSize
	if page != nil {
		first = *page
	}
	if limit != nil {
		size = *limit
	}
	return first, size
}

// paginate walks pages from first on, lazily. It stops after an empty
// page, a page shorter than limit or one whose hasMore is false, and
// refuses to go on when a page holds the same items as the one before it,
// so that a server ignoring the page parameter cannot make it loop.
func paginate[T any](first, limit int, fetch func(page int) ([]T, *bool, error), id func(T) string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		var previous []string
		for page := first; ; page++ {
			items, hasMore, err := fetch(page)
			if err != nil {
				yield(zero, err)
				return
			}
			if len(items) == 0 {
				return
			}
			ids := make([]string, len(items))
			for i, it := range items {
				ids[i] = id(it)
			}
			if slices.Equal(ids, previous) {
				yield(zero, fmt.Errorf("%w: page %d holds the same items as page %d; the server seems to ignore the page parameter", ErrPaginationStalled, page, page-1))
				return
			}
			previous = ids
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if len(items) < limit || (hasMore != nil && !*hasMore) {
				return
			}
		}
	}
}
