//! The sandbox's sparse answers (`[sandbox] sparse = true`, `registratura sandbox --sparse`):
//! a МИС that writes no more than the contract makes it. Every member the schemas allow to be
//! left out is: a `nillable` one written nil, any other left out — but for the members the
//! hub adapter needs ([`mis_hub::needs::NEEDED`]), and the lists an answer is for. Which
//! members are optional is read from the schemas themselves (the sandbox's WSDL, cut from the
//! real contract), not listed by hand.
//!
//! Beside it, any operation may be made to refuse every call with an `ErrorList`
//! (`refuse_operations`): a МИС or a hub without `GetLPUInfo`, `GetPatientsAreas` or
//! `GetWorkingTime`.

use mis_hub::contract::Member;
use std::collections::HashMap;
use std::sync::OnceLock;

/// An optional member of a type: whether it may be written nil (else it is left out).
type Optional = HashMap<(&'static str, &'static str, &'static str), bool>;

/// The optional members of every type of the schemas: `(namespace, type, member)` → nillable.
fn optional() -> &'static Optional {
    static TABLE: OnceLock<Optional> = OnceLock::new();
    TABLE.get_or_init(|| members_of(crate::wsdl::WSDL))
}

/// The value of the attribute `name` in the attributes `tag` of an element's start tag.
fn attribute<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    let pattern = format!("{name}=\"");
    let at = tag.match_indices(&pattern).find_map(|(i, _)| {
        let starts = i == 0 || tag[..i].ends_with(char::is_whitespace);
        starts.then_some(i + pattern.len())
    })?;
    let rest = &tag[at..];
    Some(&rest[..rest.find('"')?])
}

/// The optional members of the named complex types of every schema of `wsdl`, lists aside.
fn members_of(wsdl: &'static str) -> Optional {
    let mut table = Optional::new();
    for schema in wsdl.split("<xs:schema ").skip(1) {
        let head = &schema[..schema.find('>').unwrap_or(schema.len())];
        let Some(ns) = attribute(head, "targetNamespace") else {
            continue;
        };
        for ty in schema.split("<xs:complexType name=\"").skip(1) {
            let Some(end) = ty.find('"') else { continue };
            let name = &ty[..end];
            let body = &ty[..ty.find("</xs:complexType>").unwrap_or(ty.len())];
            for element in body.split("<xs:element ").skip(1) {
                let tag = &element[..element.find('>').unwrap_or(element.len())];
                let (Some(member), Some("0")) =
                    (attribute(tag, "name"), attribute(tag, "minOccurs"))
                else {
                    continue;
                };
                let list = attribute(tag, "type").is_some_and(|t| t.contains(":ArrayOf"))
                    || attribute(tag, "maxOccurs").is_some();
                if list {
                    continue;
                }
                let nillable = attribute(tag, "nillable") == Some("true");
                table.insert((ns, name, member), nillable);
            }
        }
    }
    table
}

/// How the sparse sandbox writes the member `member` of `record` (members in `ns`).
pub fn member(ns: &'static str, record: &'static str, member: &'static str) -> Member {
    if mis_hub::needs::needed(record, member) {
        return Member::Write;
    }
    match optional().get(&(ns, record, member)) {
        Some(true) => Member::Nil,
        Some(false) => Member::Leave,
        None => Member::Write,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_optional_members_are_the_schemas_and_the_needed_ones_stay() {
        let hub = mis_hub::contract::HUB;
        // Read from the schemas: optional and nillable, optional only, a list.
        assert_eq!(member(hub, "Spesiality", "NearestDate"), Member::Nil);
        assert_eq!(
            member(hub, "Spesiality", "CountFreeParticipantIE"),
            Member::Leave
        );
        assert_eq!(member(hub, "Appointment", "VisitEnd"), Member::Leave);
        assert_eq!(
            member(hub, "GetSpesialityListResult", "ListSpesiality"),
            Member::Write
        );
        // What the adapter needs is written whatever the schemas allow.
        assert_eq!(member(hub, "Spesiality", "IdSpesiality"), Member::Write);
        assert_eq!(member(hub, "MethodResult", "ErrorList"), Member::Write);
        assert_eq!(member(hub, "MethodResult", "Success"), Member::Leave);
        // Every type of the contract's namespaces is read.
        let types: std::collections::HashSet<_> =
            optional().keys().map(|(ns, ty, _)| (*ns, *ty)).collect();
        for ns in [
            hub,
            mis_hub::contract::DTO,
            mis_hub::contract::POST_APPOINTMENT,
        ] {
            assert!(types.iter().any(|(n, _)| *n == ns), "{ns}");
        }
        assert!(optional().len() > 150, "{} members", optional().len());
    }
}
