//! The text of every email the platform sends. Plain text: it renders everywhere and cannot be
//! broken by a user's name.

use super::Email;

pub fn verification(to: &str, name: &str, link: &str, token: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: "Verify your Kabaadwala email address".into(),
        body: format!(
            "Namaste {name},\n\nPlease confirm your email address by opening this link:\n\n{link}\n\n\
             Or enter this token in the app: {token}\n\nThe link is valid for 48 hours.\n\n— Kabaadwala\n"
        ),
    }
}

pub fn otp(to: &str, name: &str, code: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: format!("{code} is your Kabaadwala sign-in code"),
        body: format!(
            "Namaste {name},\n\nYour sign-in code is: {code}\n\nIt is valid for 10 minutes. If you did \
             not try to sign in, change your password.\n\n— Kabaadwala\n"
        ),
    }
}

pub fn password_reset(to: &str, name: &str, link: &str, token: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: "Reset your Kabaadwala password".into(),
        body: format!(
            "Namaste {name},\n\nSomeone asked to reset the password of this account. To choose a new \
             password, open:\n\n{link}\n\nOr enter this token in the app: {token}\n\nThe link is valid \
             for 1 hour. If it was not you, ignore this email.\n\n— Kabaadwala\n"
        ),
    }
}

pub fn kyc_decision(to: &str, name: &str, business: &str, approved: bool, reason: &str) -> Email {
    let (subject, text) = if approved {
        (
            "Your Kabaadwala vendor account is approved",
            format!(
                "Your KYC for {business} is approved. Your products are now listed and you can \
                 take orders and request payouts."
            ),
        )
    } else {
        (
            "Your Kabaadwala KYC needs attention",
            format!(
                "We could not approve the KYC for {business}.\n\nReason: {reason}\n\n\
                 Upload corrected documents in the app and we will review them again."
            ),
        )
    };
    Email {
        to: to.to_owned(),
        subject: subject.into(),
        body: format!("Namaste {name},\n\n{text}\n\n— Kabaadwala\n"),
    }
}

pub fn order_placed(to: &str, name: &str, number: &str, vendor: &str, total: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: format!("Order {number} is placed"),
        body: format!(
            "Namaste {name},\n\nYour order {number} with {vendor} is placed. {total} is held from \
             your wallet and paid to the vendor only after you confirm the delivery.\n\n— Kabaadwala\n"
        ),
    }
}

pub fn order_received(to: &str, name: &str, number: &str, total: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: format!("New order {number}"),
        body: format!(
            "Namaste {name},\n\nYou received order {number} for {total}. Please confirm or reject it \
             in the app.\n\n— Kabaadwala\n"
        ),
    }
}

pub fn order_confirmed(to: &str, name: &str, number: &str, vendor: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: format!("Order {number} is confirmed"),
        body: format!(
            "Namaste {name},\n\n{vendor} confirmed your order {number} and is preparing it.\n\n— Kabaadwala\n"
        ),
    }
}

pub fn order_delivered(to: &str, name: &str, number: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: format!("Order {number} is delivered"),
        body: format!(
            "Namaste {name},\n\nOrder {number} is marked delivered. Please confirm the delivery in the \
             app; if you do nothing, the payment is released to the vendor automatically after a \
             while.\n\n— Kabaadwala\n"
        ),
    }
}

pub fn order_refunded(to: &str, name: &str, number: &str, total: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: format!("Order {number} is refunded"),
        body: format!(
            "Namaste {name},\n\nOrder {number} was refunded: {total} is back in your wallet.\n\n— Kabaadwala\n"
        ),
    }
}

/// A notification for someone who was not online (a chat message, …).
pub fn notification(to: &str, name: &str, title: &str, body: &str, link: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: title.to_owned(),
        body: format!(
            "Namaste {name},\n\n{title}:\n\n{body}\n\nOpen Kabaadwala to reply: {link}\n\n— Kabaadwala\n"
        ),
    }
}
