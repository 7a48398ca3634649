//! The authorization walk: every root field of the schema — found by introspection, so a new
//! field cannot be forgotten — run with placeholder arguments (the victims' ids where an id is
//! asked for) as anonymous, the victim customer, another customer, the victim vendor, another
//! vendor and an admin. Nothing private of the victims reaches anyone else, outsiders change
//! nothing of theirs, `Admin:` fields refuse everyone else, and no answer is INTERNAL.

use std::{collections::HashMap, fmt::Write as _};

use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::{
    support::{
        Gql, Session, TestApp,
        catalog::{self, PNG},
        market::{self, NEAR, Shop},
    },
    wallet::fund,
};

const INTROSPECT: &str = r#"query {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types {
      kind name
      fields { name description args { name type { ...T } } type { ...T } }
      inputFields { name type { ...T } }
      enumValues { name }
    }
  }
}
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }"#;

/// The codes a refusal may carry; anything else (INTERNAL above all) fails the walk.
const ALLOWED: [&str; 8] = [
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "CONFLICT",
    "INVALID_TRANSITION",
    "INSUFFICIENT_FUNDS",
    "RATE_LIMITED",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Anonymous,
    OtherCustomer,
    OtherVendor,
    Customer,
    Vendor,
    Admin,
}

/// Outsiders run first, so the owners' own (destructive) mutations cannot hide a leak.
const ROLES: [Role; 6] = [
    Role::Anonymous,
    Role::OtherCustomer,
    Role::OtherVendor,
    Role::Customer,
    Role::Vendor,
    Role::Admin,
];

impl Role {
    fn short(self) -> &'static str {
        match self {
            Self::Anonymous => "anon",
            Self::OtherCustomer => "other-cust",
            Self::OtherVendor => "other-vend",
            Self::Customer => "customer",
            Self::Vendor => "vendor",
            Self::Admin => "admin",
        }
    }

    /// Sees nothing of the victim customer.
    fn outsider_of_customer(self) -> bool {
        matches!(
            self,
            Self::Anonymous | Self::OtherCustomer | Self::OtherVendor
        )
    }

    /// Sees nothing private of the victim vendor (payouts, KYC, its own notifications).
    fn outsider_of_vendor(self) -> bool {
        self.outsider_of_customer() || self == Self::Customer
    }
}

/// A type reference from introspection.
#[derive(Debug, Clone)]
enum TypeRef {
    NonNull(Box<TypeRef>),
    List(Box<TypeRef>),
    Named { kind: String, name: String },
}

impl TypeRef {
    fn parse(v: &Value) -> Self {
        match v["kind"].as_str().unwrap() {
            "NON_NULL" => Self::NonNull(Box::new(Self::parse(&v["ofType"]))),
            "LIST" => Self::List(Box::new(Self::parse(&v["ofType"]))),
            kind => Self::Named {
                kind: kind.to_owned(),
                name: v["name"].as_str().unwrap().to_owned(),
            },
        }
    }

    fn render(&self) -> String {
        match self {
            Self::NonNull(t) => format!("{}!", t.render()),
            Self::List(t) => format!("[{}]", t.render()),
            Self::Named { name, .. } => name.clone(),
        }
    }

    fn named(&self) -> (&str, &str) {
        match self {
            Self::NonNull(t) | Self::List(t) => t.named(),
            Self::Named { kind, name } => (kind, name),
        }
    }

    fn required(&self) -> bool {
        matches!(self, Self::NonNull(_))
    }
}

struct Introspected {
    types: HashMap<String, Value>,
    query: String,
    mutation: String,
    subscription: Option<String>,
}

impl Introspected {
    async fn load(app: &TestApp) -> Self {
        let schema = app.gql(INTROSPECT, json!({}), None).await.data("__schema");
        let types = schema["types"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["name"].as_str().unwrap().to_owned(), t.clone()))
            .collect();
        Self {
            types,
            query: schema["queryType"]["name"].as_str().unwrap().to_owned(),
            mutation: schema["mutationType"]["name"].as_str().unwrap().to_owned(),
            subscription: schema["subscriptionType"]["name"]
                .as_str()
                .map(str::to_owned),
        }
    }

    fn fields(&self, type_name: &str) -> Vec<Value> {
        self.types[type_name]["fields"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// `{ __typename … }` with every field that needs no argument: scalars at every level,
    /// objects two levels down (so ids and emails of related users and orders show).
    fn selection(&self, t: &TypeRef, depth: usize) -> String {
        let (kind, name) = t.named();
        match kind {
            "OBJECT" => {
                let mut out = String::from(" { __typename");
                for f in self.fields(name) {
                    let needs_args = f["args"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|a| TypeRef::parse(&a["type"]).required());
                    if needs_args {
                        continue;
                    }
                    let ft = TypeRef::parse(&f["type"]);
                    let fname = f["name"].as_str().unwrap();
                    match ft.named().0 {
                        "SCALAR" | "ENUM" => write!(out, " {fname}").unwrap(),
                        _ if depth < 2 => {
                            write!(out, " {fname}{}", self.selection(&ft, depth + 1)).unwrap();
                        }
                        _ => {}
                    }
                }
                out.push_str(" }");
                out
            }
            "UNION" | "INTERFACE" => " { __typename }".into(),
            _ => String::new(),
        }
    }
}

/// The fixture's ids.
struct Fixture {
    victim: Session,
    victim_vendor: Shop,
    other: Session,
    other_vendor: Shop,
    admin: Session,
    address: String,
    recharge: String,
    order: String,
    order_number: String,
    room: String,
    message: String,
    notification: String,
    vendor_notification: String,
    payout: String,
    kyc_doc: String,
    product: Uuid,
    /// Orders the victim vendor received (for the analytics check).
    vendor_orders: i64,
}

impl Fixture {
    fn token(&self, role: Role) -> Option<&str> {
        match role {
            Role::Anonymous => None,
            Role::Customer => Some(&self.victim.access_token),
            Role::OtherCustomer => Some(&self.other.access_token),
            Role::Vendor => Some(&self.victim_vendor.owner.access_token),
            Role::OtherVendor => Some(&self.other_vendor.owner.access_token),
            Role::Admin => Some(&self.admin.access_token),
        }
    }

    /// Strings only the victim customer (and its vendor, and admins) may see.
    fn customer_private(&self) -> Vec<(&'static str, String)> {
        vec![
            ("victim email", self.victim.email.clone()),
            ("victim user id", self.victim.user_id.clone()),
            ("address id", self.address.clone()),
            ("recharge id", self.recharge.clone()),
            ("order id", self.order.clone()),
            ("order number", self.order_number.clone()),
            ("chat room id", self.room.clone()),
            ("message id", self.message.clone()),
            ("notification id", self.notification.clone()),
        ]
    }

    /// Strings only the victim vendor (and admins) may see.
    fn vendor_private(&self) -> Vec<(&'static str, String)> {
        vec![
            // Not the owner's email: the buyer sees the vendor's user among the chat room's
            // participants, which is by design (they trade with each other).
            ("payout id", self.payout.clone()),
            ("kyc document id", self.kyc_doc.clone()),
            ("vendor notification id", self.vendor_notification.clone()),
        ]
    }

    /// The ids whose presence in the arguments makes a field "about the victims' private data".
    fn private_args(&self) -> Vec<String> {
        vec![
            self.victim.user_id.clone(),
            self.address.clone(),
            self.recharge.clone(),
            self.order.clone(),
            self.room.clone(),
            self.notification.clone(),
            self.payout.clone(),
        ]
    }

    fn id_for(&self, field: &str, arg: &str) -> String {
        let f = field.to_lowercase();
        let random = Uuid::new_v4().to_string();
        match arg {
            "orderId" => self.order.clone(),
            "roomId" => self.room.clone(),
            "vendorId" => self.victim_vendor.vendor_id.to_string(),
            "productId" => self.product.to_string(),
            "userId" => self.victim.user_id.clone(),
            "addressId" => self.address.clone(),
            "ids" => self.notification.clone(),
            "id" if f.contains("payout") => self.payout.clone(),
            "id" if f.contains("recharge") => self.recharge.clone(),
            "id" if f.contains("address") => self.address.clone(),
            "id" if f.contains("order") => self.order.clone(),
            "id" if f.contains("notification") => self.notification.clone(),
            "id" if f.contains("room") || f.contains("message") => self.room.clone(),
            "id" if f.contains("product") => self.product.to_string(),
            "id" if f.contains("vendor") => self.victim_vendor.vendor_id.to_string(),
            _ => random,
        }
    }

    fn string_for(&self, arg: &str) -> Value {
        let unique = Uuid::new_v4().simple().to_string();
        json!(match arg {
            "email" => self.victim.email.clone(),
            "password" | "newPassword" => "wrong-Password-2026".into(),
            "phone" => "+919820000001".into(),
            "pincode" => "400016".into(),
            "code" => "000000".into(),
            "idempotencyKey" => format!("walk-{unique}"),
            "slug" => format!("walk-{unique}"),
            "key" => "commission_rate_bps".into(),
            "value" => "not a number".into(),
            "body" | "comment" => "hello from the walk".into(),
            _ => "walk".into(),
        })
    }

    /// A value of type `t` for argument (or input field) `arg` of root field `field`, or None
    /// when it needs a file upload.
    fn placeholder(&self, s: &Introspected, field: &str, arg: &str, t: &TypeRef) -> Option<Value> {
        match t {
            TypeRef::NonNull(inner) => self.placeholder(s, field, arg, inner),
            TypeRef::List(inner) => Some(json!([self.placeholder(s, field, arg, inner)?])),
            TypeRef::Named { kind, name } => match (kind.as_str(), name.as_str()) {
                ("SCALAR", "ID") => Some(json!(self.id_for(field, arg))),
                ("SCALAR", "String") => Some(self.string_for(arg)),
                ("SCALAR", "Int") => Some(json!(match arg {
                    "rating" => 5,
                    "commissionRateBps" => 500,
                    _ => 1,
                })),
                ("SCALAR", "Paise") => Some(json!(1_000)),
                ("SCALAR", "Float") => Some(json!(match arg {
                    "latitude" => NEAR.0,
                    "longitude" => NEAR.1,
                    _ => 5.0,
                })),
                ("SCALAR", "Boolean") => Some(json!(false)),
                ("SCALAR", "DateTime") => Some(json!("2026-01-01T00:00:00Z")),
                ("SCALAR", "NaiveDate") => Some(json!("2026-01-01")),
                ("SCALAR", "Upload") => None,
                ("SCALAR", other) => panic!("the walk does not know scalar {other}: teach it"),
                ("ENUM", _) => Some(s.types[name]["enumValues"][0]["name"].clone()),
                ("INPUT_OBJECT", _) => {
                    let mut obj = Map::new();
                    for f in s.types[name]["inputFields"].as_array().unwrap() {
                        let ft = TypeRef::parse(&f["type"]);
                        if ft.required() {
                            let fname = f["name"].as_str().unwrap();
                            obj.insert(fname.into(), self.placeholder(s, field, fname, &ft)?);
                        }
                    }
                    Some(Value::Object(obj))
                }
                other => panic!("unexpected input type {other:?}"),
            },
        }
    }
}

async fn fixture(app: &TestApp) -> Fixture {
    let admin = app.admin().await;

    // The victim vendor: registered, KYC document uploaded, approved, with a product.
    let v = catalog::vendor(app, "Victim Vendor", NEAR).await;
    let kyc_doc = catalog::upload_kyc(app, &v.session, "PAN", "pan.png", PNG)
        .await
        .data("uploadKycDocument")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    catalog::review_kyc(app, &admin, &v.vendor_id, true, None)
        .await
        .data("reviewKyc");
    let victim_vendor = Shop {
        owner: v.session,
        vendor_id: v.vendor_id.parse().unwrap(),
    };
    let product = market::product(app, &victim_vendor, "Copper", 10_000, 100).await;

    // The victim customer: an address, a recharge, an order (confirmed, so both sides have a
    // notification), a chat room with a message; a second, completed order pays the vendor,
    // who asks for a payout.
    let victim = app.customer("Victim").await;
    let address = market::address(app, &victim, Some(NEAR)).await;
    let recharge = app
        .gql(
            "mutation($input: RechargeInput!) { rechargeWallet(input: $input) { id } }",
            json!({ "input": { "amount": 100_000, "idempotencyKey": "walk-fixture" } }),
            Some(&victim.access_token),
        )
        .await
        .data("rechargeWallet")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.drain_jobs().await;
    let placed = market::place(app, &victim, &[(product, 1)], &address, "walk-order-1")
        .await
        .data("createOrder");
    let order = placed["id"].as_str().unwrap().to_owned();
    let order_number = placed["number"].as_str().unwrap().to_owned();
    market::set_status(app, &victim_vendor.owner, &order, "CONFIRMED")
        .await
        .data("updateOrderStatus");
    let paid = market::placed(app, &victim, product, 2, &address).await;
    market::advance(app, &victim_vendor, &victim, &admin, &paid, "COMPLETED").await;
    app.drain_jobs().await;
    let room = app
        .gql(
            "mutation($o: ID!) { createChatRoom(orderId: $o) { id } }",
            json!({ "o": order }),
            Some(&victim.access_token),
        )
        .await
        .data("createChatRoom")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let message = app
        .gql(
            "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }",
            json!({ "input": { "roomId": room, "body": "is it still there?" } }),
            Some(&victim.access_token),
        )
        .await
        .data("sendMessage")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let payout = app
        .gql(
            "mutation($input: PayoutInput!) { requestPayout(input: $input) { id } }",
            json!({ "input": { "amount": 5_000, "idempotencyKey": "walk-payout" } }),
            Some(&victim_vendor.owner.access_token),
        )
        .await
        .data("requestPayout")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.drain_jobs().await;
    let first_notification = |who: &Session| {
        let token = who.access_token.clone();
        async move {
            let list = app
                .gql(
                    "{ notifications(first: 1) { nodes { id } } }",
                    json!({}),
                    Some(&token),
                )
                .await
                .data("notifications");
            list["nodes"][0]["id"]
                .as_str()
                .expect("a notification")
                .to_owned()
        }
    };
    let notification = first_notification(&victim).await;
    let vendor_notification = first_notification(&victim_vendor.owner).await;

    // The others, with data of their own.
    let other_vendor = market::shop(app, "Other Vendor").await;
    let other_product = market::product(app, &other_vendor, "Brass", 5_000, 100).await;
    let other = app.customer("Other").await;
    fund(app, &other, 50_000).await;
    let other_address = market::address(app, &other, Some(NEAR)).await;
    market::placed(app, &other, other_product, 1, &other_address).await;
    app.drain_jobs().await;

    Fixture {
        victim,
        victim_vendor,
        other,
        other_vendor,
        admin,
        address,
        recharge,
        order,
        order_number,
        room,
        message,
        notification,
        vendor_notification,
        payout,
        kyc_doc,
        product,
        vendor_orders: 2,
    }
}

/// What the victims have, as seen by themselves and an admin: must not change while outsiders
/// walk the schema.
async fn victim_state(app: &TestApp, fx: &Fixture) -> Value {
    let admin = Some(fx.admin.access_token.as_str());
    let victim = Some(fx.victim.access_token.as_str());
    let vendor = Some(fx.victim_vendor.owner.access_token.as_str());
    json!({
        "order": app.gql("query($id: ID!) { order(id: $id) { status total chatRoom { id unreadCount } } }", json!({ "id": fx.order }), admin).await.data("order"),
        "payouts": app.gql("{ payouts { nodes { id status amount } } }", json!({}), admin).await.data("payouts"),
        "addresses": app.gql("{ addresses { id label isDefault } }", json!({}), victim).await.data("addresses"),
        "wallet": app.gql("{ wallet { availableBalance heldBalance } }", json!({}), victim).await.data("wallet"),
        "notifications": app.gql("{ notifications { nodes { id isRead } } }", json!({}), victim).await.data("notifications"),
        "vendorNotifications": app.gql("{ notifications { nodes { id isRead } } }", json!({}), vendor).await.data("notifications"),
        "me": app.gql("{ me { email fullName phone twoFactorEnabled } }", json!({}), victim).await.data("me"),
        "myVendor": app.gql("{ myVendor { businessName kycStatus commissionRateBps kycDocuments { id } } }", json!({}), vendor).await.data("myVendor"),
        "products": app.gql("{ vendorProducts { nodes { id name price stock isActive } } }", json!({}), vendor).await.data("vendorProducts"),
    })
}

/// One root field, ready to run.
struct Op {
    root: &'static str,
    field: String,
    document: String,
    variables: Value,
    /// Whether an argument names the victims' private objects.
    private: bool,
    /// Whether an optional argument was given (a refusal may be about it, not the field).
    optional_args: bool,
}

fn is_admin_field(description: &str) -> bool {
    description.trim_start().starts_with("Admin:")
}

#[tokio::test]
async fn every_root_field_refuses_or_answers_without_leaking_to_every_role() {
    let app = TestApp::new().await;
    let fx = fixture(&app).await;
    let s = Introspected::load(&app).await;

    let mut skipped: Vec<(String, &str)> = Vec::new();
    if let Some(sub) = &s.subscription {
        for f in s.fields(sub) {
            skipped.push((
                format!("subscription.{}", f["name"].as_str().unwrap()),
                "needs a socket (tests/api/realtime.rs covers who may subscribe)",
            ));
        }
    }

    // Builds each operation afresh per role (idempotency keys must be new each time).
    let build = |root: &'static str, type_name: &str, f: &Value| -> Option<Op> {
        let field = f["name"].as_str().unwrap().to_owned();
        let mut decls = Vec::new();
        let mut args = Vec::new();
        let mut variables = Map::new();
        let mut optional_args = false;
        for (i, a) in f["args"].as_array().unwrap().iter().enumerate() {
            let t = TypeRef::parse(&a["type"]);
            let name = a["name"].as_str().unwrap();
            // Optional arguments are left out, except ids: they may point at the victims.
            if !t.required() && t.named().1 != "ID" {
                continue;
            }
            optional_args |= !t.required();
            let value = fx.placeholder(&s, &field, name, &t)?;
            decls.push(format!("$a{i}: {}", t.render()));
            args.push(format!("{name}: $a{i}"));
            variables.insert(format!("a{i}"), value);
        }
        let _ = type_name;
        let private_ids = fx.private_args();
        let vars = Value::Object(variables);
        let vars_text = vars.to_string();
        let private = private_ids.iter().any(|id| vars_text.contains(id.as_str()))
            || field == "vendorAnalytics"
            || field == "kycDocuments";
        let decls = if decls.is_empty() {
            String::new()
        } else {
            format!("({})", decls.join(", "))
        };
        let args = if args.is_empty() {
            String::new()
        } else {
            format!("({})", args.join(", "))
        };
        let selection = s.selection(&TypeRef::parse(&f["type"]), 0);
        Some(Op {
            root,
            document: format!("{root}{decls} {{ {field}{args}{selection} }}"),
            field,
            variables: vars,
            private,
            optional_args,
        })
    };

    let roots: [(&'static str, &str); 2] = [("query", &s.query), ("mutation", &s.mutation)];
    let mut walked_fields = 0;
    let mut runs = 0;
    let mut failures: Vec<String> = Vec::new();
    // field -> role -> outcome, for the table.
    let mut table: Vec<(String, Vec<String>)> = Vec::new();
    let mut with_optional_args = Vec::new();
    let mut admin_only = Vec::new();
    let before = victim_state(&app, &fx).await;
    let mut after_outsiders = None;

    for (root, type_name) in roots {
        for f in s.fields(type_name) {
            let name = f["name"].as_str().unwrap();
            let Some(op) = build(root, type_name, &f) else {
                skipped.push((
                    format!("{root}.{name}"),
                    "needs a file upload (tests/api/vendors.rs, products.rs, chat.rs cover who may upload)",
                ));
                continue;
            };
            if op.optional_args {
                with_optional_args.push(format!("{root}.{name}"));
            }
            walked_fields += 1;
            table.push((format!("{root}.{name}"), vec![String::new(); ROLES.len()]));
        }
    }

    for (r, role) in ROLES.into_iter().enumerate() {
        if role == Role::Customer {
            // Every outsider has run every field: the victims' data must be as it was.
            after_outsiders = Some(victim_state(&app, &fx).await);
        }
        let mut row = 0;
        for (root, type_name) in roots {
            for f in s.fields(type_name) {
                let Some(op) = build(root, type_name, &f) else {
                    continue;
                };
                runs += 1;
                let res = app
                    .gql(&op.document, op.variables.clone(), fx.token(role))
                    .await;
                let outcome = check(&fx, role, &op, &res, &mut failures);
                table[row].1[r] = outcome;
                row += 1;
            }
        }
    }

    // Admin-only fields: the description says so, and everyone but an admin is refused.
    for (root, type_name) in roots {
        for f in s.fields(type_name) {
            let description = f["description"].as_str().unwrap_or_default();
            if is_admin_field(description) {
                admin_only.push(format!("{root}.{}", f["name"].as_str().unwrap()));
            }
        }
    }
    for (field, cells) in &table {
        let refused = |c: &String| c == "UNAUTHENTICATED" || c == "FORBIDDEN";
        let refused_by_all_but_admin = cells[..5].iter().all(refused)
            && !refused(&cells[5])
            && !with_optional_args.contains(field);
        if admin_only.contains(field) {
            for (role, cell) in ROLES.iter().zip(cells).take(5) {
                let expected = if *role == Role::Anonymous {
                    "UNAUTHENTICATED"
                } else {
                    "FORBIDDEN"
                };
                if cell != expected {
                    failures.push(format!(
                        "{field} is Admin-only but {} got {cell}, not {expected}",
                        role.short()
                    ));
                }
            }
        } else if refused_by_all_but_admin {
            failures.push(format!(
                "{field} refuses everyone but admins: its description should start with \"Admin:\""
            ));
        }
    }
    assert!(
        admin_only.len() >= 10,
        "the Admin: convention seems lost: {admin_only:?}"
    );

    let after = after_outsiders.unwrap();
    if before != after {
        failures.push(format!(
            "outsiders changed the victims' data:\nbefore {before:#}\nafter {after:#}"
        ));
    }

    let mut report = String::new();
    writeln!(
        report,
        "{walked_fields} root fields x {} roles = {runs} operations; admin-only: {}; skipped: {}",
        ROLES.len(),
        admin_only.len(),
        skipped.len()
    )
    .unwrap();
    write!(report, "{:<34}", "field").unwrap();
    for role in ROLES {
        write!(report, " {:<12}", role.short()).unwrap();
    }
    report.push('\n');
    for (field, cells) in &table {
        write!(report, "{field:<34}").unwrap();
        for cell in cells {
            write!(report, " {:<12}", abbreviate(cell)).unwrap();
        }
        report.push('\n');
    }
    for (field, why) in &skipped {
        writeln!(report, "skipped {field}: {why}").unwrap();
    }
    println!("{report}");
    assert!(
        failures.is_empty(),
        "{report}\n{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(walked_fields >= 70, "only {walked_fields} fields walked");
}

fn abbreviate(cell: &str) -> &str {
    match cell {
        "UNAUTHENTICATED" => "UNAUTH",
        "BAD_USER_INPUT" => "BAD_INPUT",
        "INVALID_TRANSITION" => "INVALID_TR",
        "INSUFFICIENT_FUNDS" => "NO_FUNDS",
        other => other,
    }
}

/// Checks one answer; returns its cell for the table ("data", "null", or the error code).
fn check(fx: &Fixture, role: Role, op: &Op, res: &Gql, failures: &mut Vec<String>) -> String {
    let who = format!("{}.{} as {}", op.root, op.field, role.short());
    let mut cell = None;
    for error in &res.errors {
        let code = error["extensions"]["code"].as_str().unwrap_or("<none>");
        let message = error["message"].as_str().unwrap_or_default();
        if !ALLOWED.contains(&code) {
            failures.push(format!("{who}: code {code}: {message}"));
        }
        let lower = message.to_lowercase();
        if ["too complex", "too deep", "aliases", "tokens", "nested"]
            .iter()
            .any(|m| lower.contains(m))
        {
            failures.push(format!(
                "{who}: the walk's own document was refused ({message}): fix the walk"
            ));
        }
        if message.contains(&fx.victim.email) && role.outsider_of_customer() {
            failures.push(format!(
                "{who}: an error names the victim's email: {message}"
            ));
        }
        cell.get_or_insert_with(|| code.to_owned());
    }
    let data = res.data.get(&op.field).cloned().unwrap_or(Value::Null);
    let text = data.to_string();
    let mut markers = Vec::new();
    if role.outsider_of_customer() {
        markers.extend(fx.customer_private());
    }
    if role.outsider_of_vendor() {
        markers.extend(fx.vendor_private());
    }
    for (what, marker) in markers {
        if text.contains(&marker) {
            failures.push(format!("{who}: the answer shows the {what}: {text}"));
        }
    }
    let outsider = role.outsider_of_customer()
        || (role == Role::Customer && (op.field.contains("ayout") || op.field.contains("kyc")));
    if op.private && outsider {
        match &data {
            Value::Bool(true) => failures.push(format!("{who}: true for the victims' object")),
            Value::Number(n) if n.as_i64() != Some(0) => {
                failures.push(format!("{who}: {n} for the victims' object"));
            }
            _ => {}
        }
        if op.field == "vendorAnalytics" && data["totalOrders"].as_i64() == Some(fx.vendor_orders) {
            failures.push(format!("{who}: the victim vendor's analytics: {text}"));
        }
    }
    cell.unwrap_or_else(|| if data.is_null() { "null" } else { "data" }.to_owned())
}
