//! The demo clinic: specialties, doctors, test patients and how schedules are generated.
//!
//! Names are invented. The data cover every case the patient flow must handle (seed table 1):
//! a doctor with no free tickets, a specialty with none, a doctor whose schedule is not built,
//! and a patient whose data match two cards.

/// The demo clinic's `idLpu`.
pub const LPU_ID: i32 = 1;
pub const LPU_FULL_NAME: &str = "ГБУЗ «Городская поликлиника № 1»";
pub const LPU_SHORT_NAME: &str = "Городская поликлиника № 1";
pub const LPU_ADDRESS: &str = "г. Москва, ул. Лесная, д. 7";
pub const LPU_TIMEZONE: chrono_tz::Tz = chrono_tz::Europe::Moscow;
/// The demo clinic's district, as `GetDistrictList` and its card name it.
pub const DISTRICT_ID: i32 = 1;
pub const DISTRICT_NAME: &str = "Центральный район";
/// The district's OKATO code.
pub const DISTRICT_OKATO: u64 = 45_286_555_000;
/// The demo clinic's card (`GetLPUInfo`).
pub const LPU_PHONE: &str = "+7 (495) 000-00-01";
pub const LPU_EMAIL: &str = "gp1@sandbox.registratura.example";
pub const LPU_WORK_TIME: &str = "пн–пт 8:00–20:00, сб 9:00–15:00";
pub const LPU_OID: &str = "1.2.643.5.1.13.13.12.2.77.0000";

/// How a clinic of the sandbox's region answers its own operations (the catalogue's are
/// answered by the hub, always at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Normal,
    /// Answers after [`crate::SandboxConfig::slow_clinic`]: past any deadline a gateway sets.
    Slow,
    /// Answers every call with an `ErrorList` ([`FAULT_ID`]).
    Faulty,
}

/// The `IdError` the faulty clinic answers.
pub const FAULT_ID: i32 = 98;
pub const FAULT_TEXT: &str = "Внутренняя ошибка МИС медицинской организации";

/// A clinic of the sandbox's region.
#[derive(Debug, Clone, Copy)]
pub struct ClinicSeed {
    pub lpu: i32,
    pub district: i32,
    pub short_name: &'static str,
    pub full_name: &'static str,
    pub address: &'static str,
    pub phone: &'static str,
    pub email: &'static str,
    pub work_time: &'static str,
    pub oid: &'static str,
    /// Whether it takes bookings (`IsActive`).
    pub active: bool,
    /// The clinic it is a branch of (`PartOf`).
    pub part_of: Option<i32>,
    /// `LPUType`: 1 an adults' clinic, 2 a children's one.
    pub kind: i32,
    /// Its specialties, by id in [`SPECIALTIES`]; empty: every one.
    pub specialties: &'static [&'static str],
    pub behaviour: Behaviour,
}

/// The region's districts: id, name, OKATO code.
pub const DISTRICTS: &[(i32, &str, u64)] = &[
    (DISTRICT_ID, DISTRICT_NAME, DISTRICT_OKATO),
    (2, "Северный район", 45_277_553_000),
    (3, "Южный район", 45_296_561_000),
];

/// The region's seven clinics: the demo clinic first; one inactive, one a branch, one slow,
/// one faulty.
pub const CLINICS: &[ClinicSeed] = &[
    ClinicSeed {
        lpu: LPU_ID,
        district: DISTRICT_ID,
        short_name: LPU_SHORT_NAME,
        full_name: LPU_FULL_NAME,
        address: LPU_ADDRESS,
        phone: LPU_PHONE,
        email: LPU_EMAIL,
        work_time: LPU_WORK_TIME,
        oid: LPU_OID,
        active: true,
        part_of: None,
        kind: 1,
        specialties: &[],
        behaviour: Behaviour::Normal,
    },
    ClinicSeed {
        lpu: 2,
        district: DISTRICT_ID,
        short_name: "Филиал № 1 поликлиники № 1",
        full_name: "Филиал № 1 ГБУЗ «Городская поликлиника № 1»",
        address: "г. Москва, ул. Садовая, д. 12",
        phone: "+7 (495) 000-00-02",
        email: "gp1-f1@sandbox.registratura.example",
        work_time: "пн–пт 8:00–20:00",
        oid: "1.2.643.5.1.13.13.12.2.77.0002",
        active: true,
        part_of: Some(LPU_ID),
        kind: 1,
        specialties: &["1", "3", "4"],
        behaviour: Behaviour::Normal,
    },
    ClinicSeed {
        lpu: 3,
        district: 2,
        short_name: "Городская поликлиника № 3",
        full_name: "ГБУЗ «Городская поликлиника № 3»",
        address: "г. Москва, Северный бульвар, д. 3",
        phone: "+7 (495) 000-00-03",
        email: "gp3@sandbox.registratura.example",
        work_time: "пн–пт 8:00–20:00, сб 9:00–15:00",
        oid: "1.2.643.5.1.13.13.12.2.77.0003",
        active: true,
        part_of: None,
        kind: 1,
        specialties: &["1", "2", "5", "6"],
        behaviour: Behaviour::Normal,
    },
    ClinicSeed {
        lpu: 4,
        district: 2,
        short_name: "Детская поликлиника № 4",
        full_name: "ГБУЗ «Детская городская поликлиника № 4»",
        address: "г. Москва, ул. Ёлочная, д. 4",
        phone: "+7 (495) 000-00-04",
        email: "dgp4@sandbox.registratura.example",
        work_time: "пн–пт 8:00–18:00",
        oid: "1.2.643.5.1.13.13.12.2.77.0004",
        active: false,
        part_of: None,
        kind: 2,
        specialties: &["1", "3"],
        behaviour: Behaviour::Normal,
    },
    ClinicSeed {
        lpu: 5,
        district: 3,
        short_name: "Городская поликлиника № 5",
        full_name: "ГБУЗ «Городская поликлиника № 5»",
        address: "г. Москва, Южная ул., д. 5",
        phone: "+7 (495) 000-00-05",
        email: "gp5@sandbox.registratura.example",
        work_time: "пн–пт 8:00–20:00",
        oid: "1.2.643.5.1.13.13.12.2.77.0005",
        active: true,
        part_of: None,
        kind: 1,
        specialties: &["1", "2", "3", "7"],
        behaviour: Behaviour::Normal,
    },
    ClinicSeed {
        lpu: 6,
        district: 3,
        short_name: "Городская поликлиника № 6",
        full_name: "ГБУЗ «Городская поликлиника № 6»",
        address: "г. Москва, Южная ул., д. 16",
        phone: "+7 (495) 000-00-06",
        email: "gp6@sandbox.registratura.example",
        work_time: "пн–пт 8:00–20:00",
        oid: "1.2.643.5.1.13.13.12.2.77.0006",
        active: true,
        part_of: None,
        kind: 1,
        specialties: &["1", "2"],
        behaviour: Behaviour::Slow,
    },
    ClinicSeed {
        lpu: 7,
        district: 3,
        short_name: "Городская поликлиника № 7",
        full_name: "ГБУЗ «Городская поликлиника № 7»",
        address: "г. Москва, Южная ул., д. 27",
        phone: "+7 (495) 000-00-07",
        email: "gp7@sandbox.registratura.example",
        work_time: "пн–пт 8:00–20:00",
        oid: "1.2.643.5.1.13.13.12.2.77.0007",
        active: true,
        part_of: None,
        kind: 1,
        specialties: &["1", "6"],
        behaviour: Behaviour::Faulty,
    },
];

/// The region's clinic `lpu`.
pub fn clinic(lpu: i32) -> Option<&'static ClinicSeed> {
    CLINICS.iter().find(|c| c.lpu == lpu)
}

/// The name of district `id`.
pub fn district_name(id: i32) -> Option<&'static str> {
    DISTRICTS.iter().find(|d| d.0 == id).map(|d| d.1)
}

/// How many days ahead (today included) schedules are built.
pub const SCHEDULE_DAYS: i64 = 14;

/// A specialty: id, name, federal code, whether it is a general practice.
pub const SPECIALTIES: &[(&str, &str, &str, bool)] = &[
    ("1", "Терапия", "27", true),
    ("2", "Хирургия", "42", false),
    ("3", "Офтальмология", "17", false),
    ("4", "Оториноларингология", "16", false),
    ("5", "Неврология", "13", false),
    ("6", "Кардиология", "8", false),
    ("7", "Эндокринология", "50", false),
    ("8", "Дерматовенерология", "5", false),
    ("9", "Урология", "45", false),
    ("10", "Гастроэнтерология", "3", false),
    ("11", "Травматология и ортопедия", "39", false),
];

/// How a doctor's schedule is seeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// Built, with about a quarter of the tickets already taken.
    Normal,
    /// Built, every ticket taken.
    FullyBooked,
    /// Not built in the МИС: no tickets at all.
    NotBuilt,
}

impl Schedule {
    pub fn code(self) -> i64 {
        match self {
            Self::NotBuilt => 0,
            Self::Normal => 1,
            Self::FullyBooked => 2,
        }
    }
}

/// A doctor: id, specialty id, name, comment, room, minutes per ticket, schedule.
pub type DoctorSeed = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    i64,
    Schedule,
);

pub const DOCTORS: &[DoctorSeed] = &[
    (
        "101",
        "1",
        "Смирнова Елена Викторовна",
        Some("Участковый терапевт, участки 1–3"),
        "101",
        15,
        Schedule::Normal,
    ),
    (
        "102",
        "1",
        "Кузнецов Андрей Павлович",
        Some("Участковый терапевт, участки 4–6"),
        "102",
        15,
        Schedule::Normal,
    ),
    (
        "103",
        "1",
        "Волкова Наталья Сергеевна",
        Some("Участковый терапевт, участки 7–9"),
        "103",
        20,
        Schedule::FullyBooked,
    ),
    (
        "104",
        "1",
        "Морозов Дмитрий Олегович",
        None,
        "104",
        15,
        Schedule::Normal,
    ),
    (
        "201",
        "2",
        "Лебедев Игорь Николаевич",
        Some("Хирург высшей категории"),
        "210",
        20,
        Schedule::Normal,
    ),
    (
        "202",
        "2",
        "Соколова Ирина Алексеевна",
        None,
        "211",
        20,
        Schedule::Normal,
    ),
    (
        "301",
        "3",
        "Новикова Ольга Михайловна",
        Some("Подбор очков и линз"),
        "305",
        15,
        Schedule::Normal,
    ),
    (
        "302",
        "3",
        "Фёдоров Сергей Юрьевич",
        None,
        "306",
        15,
        Schedule::Normal,
    ),
    (
        "401",
        "4",
        "Павлова Татьяна Игоревна",
        None,
        "214",
        20,
        Schedule::Normal,
    ),
    (
        "402",
        "4",
        "Семёнов Алексей Викторович",
        Some("Приём взрослых и подростков с 15 лет"),
        "215",
        20,
        Schedule::Normal,
    ),
    (
        "501",
        "5",
        "Голубева Марина Анатольевна",
        None,
        "312",
        20,
        Schedule::Normal,
    ),
    (
        "502",
        "5",
        "Виноградов Павел Ильич",
        Some("Кандидат медицинских наук"),
        "313",
        20,
        Schedule::Normal,
    ),
    (
        "601",
        "6",
        "Богданова Светлана Романовна",
        None,
        "401",
        20,
        Schedule::Normal,
    ),
    (
        "602",
        "6",
        "Воробьёв Константин Андреевич",
        Some("Приём по направлению терапевта"),
        "402",
        20,
        Schedule::Normal,
    ),
    (
        "701",
        "7",
        "Михайлова Анна Дмитриевна",
        None,
        "405",
        20,
        Schedule::Normal,
    ),
    (
        "702",
        "7",
        "Киселёв Роман Евгеньевич",
        None,
        "406",
        15,
        Schedule::Normal,
    ),
    (
        "801",
        "8",
        "Андреева Юлия Валерьевна",
        None,
        "118",
        15,
        Schedule::Normal,
    ),
    (
        "802",
        "8",
        "Орлов Виктор Степанович",
        None,
        "119",
        15,
        Schedule::Normal,
    ),
    (
        "901",
        "9",
        "Макаров Евгений Львович",
        None,
        "220",
        20,
        Schedule::Normal,
    ),
    (
        "902",
        "9",
        "Никитин Артём Борисович",
        Some("Приём мужчин и женщин"),
        "221",
        20,
        Schedule::Normal,
    ),
    (
        "1001",
        "10",
        "Захарова Людмила Петровна",
        Some("Все талоны на две недели разобраны"),
        "315",
        20,
        Schedule::FullyBooked,
    ),
    (
        "1101",
        "11",
        "Зайцев Михаил Александрович",
        Some("Травмпункт, корпус 2"),
        "Травмпункт",
        15,
        Schedule::Normal,
    ),
    (
        "1102",
        "11",
        "Степанова Вера Геннадьевна",
        Some("Расписание ещё не составлено"),
        "125",
        20,
        Schedule::NotBuilt,
    ),
    (
        "1103",
        "11",
        "Белов Николай Фёдорович",
        None,
        "126",
        20,
        Schedule::Normal,
    ),
];

/// Doctors who see patients only by referral: their tickets are not open to self-booking, only
/// to `GetAppointmentsDemandDoctorsReferal` and a booking by a referral.
pub const BY_REFERRAL: &[&str] = &["602"];

/// A referral: number, patient, doctor, kind (`AppointmentType`), issued and last valid day
/// (in days from today: the sandbox renews them every day, so they always say the same).
pub type ReferralSeed = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    i64,
);

pub const REFERRALS: &[ReferralSeed] = &[
    // Valid for 30 days: to Кардиология (Воробьёв), for Иванов (4510 123456).
    ("0000000001", "P-1001", "602", "консультация", -2, 30),
    // The same patient's, expired a month ago.
    ("0000000002", "P-1001", "602", "консультация", -60, -30),
];

/// A test patient card: id, surname, name, second name, birth date, document, policy.
/// Documents and policies are stored normalized (no spaces or dashes, upper case).
pub type PatientSeed = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

pub const PATIENTS: &[PatientSeed] = &[
    (
        "P-1001",
        "Иванов",
        "Иван",
        "Иванович",
        "1980-05-17",
        "4510123456",
        "7700000000000001",
    ),
    (
        "P-1002",
        "Петрова",
        "Анна",
        "Сергеевна",
        "1955-01-09",
        "4511654321",
        "7700000000000002",
    ),
    // Two cards with the same data: the duplicate-card case (IdError 21).
    (
        "P-1003",
        "Сидоров",
        "Пётр",
        "Андреевич",
        "1990-03-03",
        "4512111111",
        "7700000000000003",
    ),
    (
        "P-1004",
        "Сидоров",
        "Пётр",
        "Андреевич",
        "1990-03-03",
        "4512111111",
        "7700000000000003",
    ),
];

/// The attachment areas of the test patients (`GetPatientsAreas`): patient id, clinic, area,
/// its kind. Иванов is attached to the demo clinic, Петрова to it and to the region's
/// clinic № 5 (another district); the duplicate cards and cards added by tests have none.
pub const AREAS: &[(&str, i32, &str, mis_hub::contract::AreaType)] = &[
    (
        "P-1001",
        LPU_ID,
        "12",
        mis_hub::contract::AreaType::Therapeutic,
    ),
    (
        "P-1002",
        LPU_ID,
        "7",
        mis_hub::contract::AreaType::Therapeutic,
    ),
    ("P-1002", LPU_ID, "2", mis_hub::contract::AreaType::Feldsher),
    ("P-1002", 5, "4", mis_hub::contract::AreaType::Therapeutic),
];

/// The card that holds the tickets seeded as already taken; no identity matches it.
pub const OCCUPANT_ID: &str = "P-0000";

/// Normalizes a document or policy as the sandbox stores it.
pub fn normalize(series: Option<&str>, number: Option<&str>) -> String {
    series
        .unwrap_or("")
        .chars()
        .chain(number.unwrap_or("").chars())
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// A stable pseudo-random number for a string, so that the same tickets are taken every run.
pub fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
