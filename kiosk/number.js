// Case numbers (ZX + date + daily sequence + Luhn check digit, e.g. ZX20261126-000123-4):
// the same rule as backend/cases/numbering.py, so a mistyped number is caught at the keypad.
export const DIGITS = 15;

export function luhnDigit(digits) {
  let total = 0;
  [...digits].reverse().forEach((ch, i) => {
    let n = Number(ch);
    if (i % 2 === 0) {
      n *= 2;
      if (n > 9) n -= 9;
    }
    total += n;
  });
  return String((10 - (total % 10)) % 10);
}

/** The canonical number for typed text (digits only, or with ZX and dashes), or null. */
export function parseNumber(text) {
  let compact = String(text).toUpperCase().replace(/[\s-]/g, "");
  if (/^\d+$/.test(compact)) compact = `ZX${compact}`;
  const m = /^ZX(\d{8})(\d{6})(\d)$/.exec(compact);
  if (!m || luhnDigit(m[1] + m[2]) !== m[3]) return null;
  return `ZX${m[1]}-${m[2]}-${m[3]}`;
}

/** Show typed digits grouped like a case number: ZX20261126-000123-4. */
export function formatPartial(digits) {
  const a = digits.slice(0, 8), b = digits.slice(8, 14), c = digits.slice(14, 15);
  return `ZX${a}${b ? `-${b}` : ""}${c ? `-${c}` : ""}`;
}

/** The case id in a link to a case in the PWA (…/#/case/<id>…), or null. */
export function caseIdFromLink(text) {
  const m = /#\/case\/([0-9a-f]{32})(?:[/?]|$)/.exec(String(text || ""));
  return m ? m[1] : null;
}
