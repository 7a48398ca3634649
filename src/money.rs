//! Money as the marketplace counts it: integer paise, and how an amount is written for people.
//! Domain-neutral (services format amounts in emails and messages without the GraphQL layer).

/// `123456789` paise → `₹12,34,567.89` (lakh/crore grouping).
pub fn format_inr(paise: i64) -> String {
    let sign = if paise < 0 { "-" } else { "" };
    let abs = paise.unsigned_abs();
    let rupees = (abs / 100).to_string();
    let fraction = abs % 100;
    let grouped = if rupees.len() <= 3 {
        rupees
    } else {
        let (head, last3) = rupees.split_at(rupees.len() - 3);
        let mut parts: Vec<&str> = Vec::new();
        let mut rest = head;
        while rest.len() > 2 {
            let (h, t) = rest.split_at(rest.len() - 2);
            parts.push(t);
            rest = h;
        }
        parts.push(rest);
        parts.reverse();
        format!("{},{}", parts.join(","), last3)
    };
    format!("{sign}₹{grouped}.{fraction:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rupees_use_the_indian_grouping() {
        assert_eq!(format_inr(0), "₹0.00");
        assert_eq!(format_inr(5), "₹0.05");
        assert_eq!(format_inr(99_950), "₹999.50");
        assert_eq!(format_inr(100_000), "₹1,000.00");
        assert_eq!(format_inr(10_000_000), "₹1,00,000.00");
        assert_eq!(format_inr(123_456_789), "₹12,34,567.89");
        assert_eq!(format_inr(-250), "-₹2.50");
    }
}
