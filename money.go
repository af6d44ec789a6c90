package axiom

import (
	"strconv"
	"strings"

	"github.com/bojanz/currency"
)

// Money is an exact amount of one currency: an integer count of the
// currency's minor unit (cents for EUR, yen for JPY, fils for BHD), never a
// float.
type Money struct {
	Minor    int64
	Currency string // an active ISO 4217 code
}

// ValueDigits is the scale of Money.Value: the most decimals any active
// ISO 4217 currency has (CLF, UYW).
const ValueDigits = 4

// maxAmountDigits bounds the integer digits of an amount, so that its
// Value (ten-thousandths) fits an int64 with room to spare.
const maxAmountDigits = 15

// CurrencyDigits is how many decimals ISO 4217 gives currency code, and
// whether code is an active currency (the CLDR's list, which drops former
// currencies, funds and metals).
func CurrencyDigits(code string) (int, bool) {
	if !currency.IsValid(code) {
		return 0, false
	}
	d, ok := currency.GetDigits(code)
	return int(d), ok
}

// ParseMoney reads amount, a decimal string, in currency code. An unknown
// currency, or more decimals than the currency has, is an invalid
// parameter named param.
func ParseMoney(param, amount, code string) (Money, error) {
	digits, ok := CurrencyDigits(code)
	if !ok {
		return Money{}, Errorf(CodeInvalidParameter, "The parameter '%s' is invalid: '%s' is not an active ISO 4217 currency code", param, code)
	}
	minor, err := parseDecimal(amount, digits)
	if err != nil {
		return Money{}, Errorf(CodeInvalidParameter, "The parameter '%s' is invalid: %s", param, err.Error())
	}
	return Money{Minor: minor, Currency: code}, nil
}

// ParseAmount reads a decimal string with at most ValueDigits decimals as
// ten-thousandths, the scale of Money.Value, for comparing prices.
func ParseAmount(param, amount string) (int64, error) {
	v, err := parseDecimal(amount, ValueDigits)
	if err != nil {
		return 0, Errorf(CodeInvalidParameter, "The parameter '%s' is invalid: %s", param, err.Error())
	}
	return v, nil
}

type amountError string

func (e amountError) Error() string { return string(e) }

// parseDecimal reads s, digits with at most one point, as an integer count
// of 10^-digits; it refuses more decimals than digits.
func parseDecimal(s string, digits int) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > maxAmountDigits || strings.Contains(frac, ".") || (strings.Contains(s, ".") && frac == "") {
		return 0, amountError("'" + s + "' is not a decimal amount")
	}
	if len(frac) > digits {
		return 0, amountError("'" + s + "' has more than " + strconv.Itoa(digits) + " decimals")
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return 0, amountError("'" + s + "' is not a decimal amount")
			}
		}
	}
	n, err := strconv.ParseInt(whole+frac+strings.Repeat("0", digits-len(frac)), 10, 64)
	if err != nil {
		return 0, amountError("'" + s + "' is too large")
	}
	return n, nil
}

// Amount is m as a decimal string with every decimal of its currency:
// "450000.00" EUR, "450000" JPY.
func (m Money) Amount() string { return formatDecimal(m.Minor, m.digits()) }

// Value is m in ten-thousandths of its currency's major unit, the scale
// every currency's amounts compare at.
func (m Money) Value() int64 {
	v := m.Minor
	for range ValueDigits - m.digits() {
		v *= 10
	}
	return v
}

func (m Money) digits() int {
	d, ok := CurrencyDigits(m.Currency)
	if !ok {
		return 2
	}
	return d
}

// FormatMinor writes minor, an amount of currency code in its minor unit,
// as Money.Amount does.
func FormatMinor(minor int64, code string) string {
	return Money{Minor: minor, Currency: code}.Amount()
}

func formatDecimal(n int64, digits int) string {
	s := strconv.FormatInt(n, 10)
	if digits == 0 {
		return s
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if len(s) <= digits {
		s = strings.Repeat("0", digits-len(s)+1) + s
	}
	s = s[:len(s)-digits] + "." + s[len(s)-digits:]
	if neg {
		s = "-" + s
	}
	return s
}
