//! The widget's texts. Components take every word they show from a [`Texts`]; the language
//! files are `ru.rs` (the default) and `en.rs`.

mod en;
mod ru;

/// Every text the widget shows, in one language.
#[derive(Debug, PartialEq)]
pub struct Texts {
    pub lang: &'static str,
    pub title: &'static str,
    pub low_vision_on: &'static str,
    pub low_vision_off: &'static str,
    pub my_tickets: &'static str,
    pub back: &'static str,
    pub restart: &'static str,
    pub retry: &'static str,
    pub loading: &'static str,
    pub your_choice: &'static str,
    pub clinic_time: &'static str,

    pub step_specialty: &'static str,
    pub step_doctor: &'static str,
    pub step_date: &'static str,
    pub step_time: &'static str,
    pub step_identify: &'static str,
    pub step_confirm: &'static str,
    pub step_ticket: &'static str,
    pub step_my_tickets: &'static str,

    pub free: &'static str,
    pub nearest: &'static str,
    pub no_free_tickets: &'static str,
    pub no_free_times: &'static str,
    pub prev_month: &'static str,
    pub next_month: &'static str,
    pub calendar_help: &'static str,
    pub day_unavailable: &'static str,
    pub day_selected: &'static str,

    pub identify_intro: &'static str,
    pub document_label: &'static str,
    pub document_hint: &'static str,
    pub policy_label: &'static str,
    pub policy_hint: &'static str,
    pub birth_label: &'static str,
    pub birth_hint: &'static str,
    pub login: &'static str,
    pub checking: &'static str,
    pub identified: &'static str,

    pub field_required: &'static str,
    pub field_document: &'static str,
    pub field_policy: &'static str,
    pub field_birth: &'static str,
    pub field_birth_future: &'static str,

    pub err_unavailable: &'static str,
    pub err_not_found: &'static str,
    pub err_not_unique: &'static str,
    pub err_too_many: &'static str,
    /// Still too many patients at once after the widget's retries (or the patient stopped).
    pub err_overloaded: &'static str,
    /// Shown while the widget retries through a surge.
    pub crowded: &'static str,
    /// The button that stops those retries.
    pub stop_trying: &'static str,
    pub err_generic: &'static str,
    pub err_slot_taken: &'static str,
    /// The clinic did not confirm whether it booked (moved, cancelled): check «Мои записи».
    pub err_outcome_unknown: &'static str,
    pub err_already_booked: &'static str,
    pub err_not_allowed: &'static str,
    pub err_session: &'static str,

    pub confirm: &'static str,
    pub booking: &'static str,
    pub label_clinic: &'static str,
    pub label_specialty: &'static str,
    pub label_doctor: &'static str,
    pub label_date: &'static str,
    pub label_time: &'static str,
    pub label_room: &'static str,
    pub label_address: &'static str,
    /// «кабинет» inside an address line.
    pub room_in_address: &'static str,
    pub label_number: &'static str,
    pub ticket_note: &'static str,
    pub print: &'static str,
    pub add_to_calendar: &'static str,
    pub book_more: &'static str,
    pub cancel_ticket: &'static str,
    pub cancel_question: &'static str,
    pub cancel_yes: &'static str,
    pub cancel_no: &'static str,
    pub cancelled: &'static str,
    pub no_upcoming: &'static str,
    pub visit: &'static str,

    pub by_referral: &'static str,
    pub step_referral: &'static str,
    pub referral_intro: &'static str,
    pub referral_label: &'static str,
    pub referral_hint: &'static str,
    pub field_referral: &'static str,
    pub find_referral: &'static str,
    pub finding_referral: &'static str,
    pub label_referral: &'static str,
    pub label_valid_until: &'static str,
    pub err_referral_not_found: &'static str,
    pub err_referral_expired: &'static str,
    pub err_referral_used: &'static str,
    pub err_referral_cancelled: &'static str,
    pub unavailable_group: &'static str,
    pub join_waiting: &'static str,
    pub step_waiting: &'static str,
    pub waiting_intro: &'static str,
    pub phone_label: &'static str,
    pub phone_hint: &'static str,
    pub field_phone: &'static str,
    pub waiting_from: &'static str,
    pub waiting_to: &'static str,
    pub join: &'static str,
    pub joining: &'static str,
    pub step_waiting_done: &'static str,
    pub waiting_note: &'static str,
    pub err_already_waiting: &'static str,
    pub err_waiting_full: &'static str,
    pub my_waiting: &'static str,
    pub no_waiting: &'static str,
    pub withdraw: &'static str,
    pub withdrawn: &'static str,
    pub label_days: &'static str,
    pub any_day: &'static str,
    pub reschedule: &'static str,
    pub step_move_confirm: &'static str,
    pub label_was: &'static str,
    pub label_will_be: &'static str,
    pub confirm_move: &'static str,
    pub moving: &'static str,
    pub step_moved: &'static str,
    pub move_note: &'static str,

    /// Region mode: choosing the clinic.
    pub step_clinic: &'static str,
    pub my_clinic: &'static str,
    pub my_clinic_intro: &'static str,
    pub find_my_clinic: &'static str,
    pub no_my_clinic: &'static str,
    pub label_area: &'static str,
    pub by_district: &'static str,
    pub label_search_clinic: &'static str,
    pub no_clinics_found: &'static str,
    pub choose_clinic: &'static str,
    pub clinic_not_online: &'static str,
    pub some_clinics_silent: &'static str,
    pub err_clinic_inactive: &'static str,
    pub err_not_supported: &'static str,
    pub other_clinic: &'static str,
    /// Region mode: the nearest free ticket to a specialty, across clinics.
    pub nearest_heading: &'static str,
    pub nearest_intro: &'static str,
    pub nearest_none: &'static str,
    /// After a clinic's name: it did not answer in time.
    pub did_not_answer: &'static str,
    pub book_ticket: &'static str,

    /// January to December, as a calendar's heading names them.
    pub months: [&'static str; 12],
    /// January to December, as a date names them ("2 декабря").
    pub months_of: [&'static str; 12],
    /// Monday to Sunday, short.
    pub weekdays_short: [&'static str; 7],
    /// Monday to Sunday.
    pub weekdays: [&'static str; 7],
}

/// The texts of `lang` (`ru` unless `en` is asked for).
pub fn texts(lang: &str) -> &'static Texts {
    match lang {
        "en" => &en::EN,
        _ => &ru::RU,
    }
}
