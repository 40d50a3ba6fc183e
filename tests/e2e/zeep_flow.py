"""Runs the whole booking flow against the sandbox МИС with zeep, a generic SOAP client built
from the sandbox's WSDL. Usage: python3 zeep_flow.py WSDL_URL GUID"""
import datetime
import sys

import zeep

wsdl, guid = sys.argv[1], sys.argv[2]
client = zeep.Client(wsdl)
svc = client.service


def ok(result, what):
    if not result.Success or (result.ErrorList and result.ErrorList.Error):
        raise SystemExit(f"{what} failed: {result.ErrorList}")
    return result


print("version:", ok(svc.GetVersion(), "GetVersion").ServiceVersion)
districts = ok(svc.GetDistrictList(guid=guid), "GetDistrictList").Districts.District
assert districts[0].IdDistrict == 1 and districts[0].DistrictName, districts
lpus = ok(svc.GetLPUList(idDistrict=districts[0].IdDistrict, guid=guid), "GetLPUList").ListLPU.Clinic
assert lpus[0].IdLPU == 1
# The sandbox's region: three districts, seven clinics, a branch (PartOf), an inactive one.
assert len(districts) == 3, districts
region = [c for d in districts
          for c in ok(svc.GetLPUList(idDistrict=d.IdDistrict, guid=guid), "GetLPUList").ListLPU.Clinic]
assert len(region) == 7 and any(c.PartOf == 1 for c in region) and any(not c.IsActive for c in region), region
cards = ok(svc.GetLPUInfo(idLpu=1, guid=guid), "GetLPUInfo").LpuCollection.LpuInfo
assert cards[0].Id == 1 and cards[0].Address and cards[0].Phone, cards
every = ok(svc.GetLPUInfo(guid=guid), "GetLPUInfo (all)").LpuCollection.LpuInfo
assert len(every) == 7, every
# The faulty clinic answers with an ErrorList.
faulty = svc.GetSpesialityList(idLpu=7, idPat=None, guid=guid)
assert not faulty.Success and faulty.ErrorList.Error[0].IdError == 98, faulty
specs = ok(svc.GetSpesialityList(idLpu=1, idPat=None, guid=guid), "GetSpesialityList").ListSpesiality.Spesiality
spec = next(s for s in specs if s.CountFreeParticipantIE > 0)
docs = ok(svc.GetDoctorList(idSpesiality=spec.IdSpesiality, idLpu=1, idPat=None, guid=guid), "GetDoctorList").Docs.Doctor
doc = next(d for d in docs if d.CountFreeParticipantIE > 0)
today = datetime.datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
end = today + datetime.timedelta(days=14)
dates = ok(svc.GetAvailableDates(idDoc=doc.IdDoc, idLpu=1, idPat=None, visitStart=today, visitEnd=end, guid=guid),
           "GetAvailableDates").AvailableDateList.dateTime
day = dates[-1]
ok(svc.GetWorkingTime(idDoc=doc.IdDoc, idLpu=1, visitStart=day, visitEnd=day + datetime.timedelta(days=1), guid=guid),
   "GetWorkingTime")
apps = ok(svc.GetAvaibleAppointments(idDoc=doc.IdDoc, idLpu=1, idPat=None, visitStart=day,
                                     visitEnd=day + datetime.timedelta(hours=23), guid=guid),
          "GetAvaibleAppointments").ListAppointments.Appointment
pat = {"Birthday": datetime.datetime(1980, 5, 17), "Document_S": "4510", "Document_N": "123456",
       "Polis_N": "7700000000000001"}
id_pat = ok(svc.CheckPatient(pat=pat, idLpu=1, guid=guid), "CheckPatient").IdPat
areas = ok(svc.GetPatientsAreas(idLpu="1", idPat=id_pat), "GetPatientsAreas").PatientsAreaList.PatientsArea
assert areas[0].Area == "12" and areas[0].AreaType == "Терапевтический", areas
ok(svc.SetAppointment(idAppointment=apps[0].IdAppointment, idLpu=1, idPat=id_pat, guid=guid), "SetAppointment")
again = svc.SetAppointment(idAppointment=apps[0].IdAppointment, idLpu=1, idPat=id_pat, guid=guid)
assert again.ErrorList.Error[0].IdError in (35, 39), again
ok(svc.SetAppointment(idAppointment=apps[1].IdAppointment, idLpu=1, idPat=id_pat,
                      idAppointmentPrev=apps[0].IdAppointment, guid=guid), "SetAppointment (reschedule)")
ok(svc.UpdatePhoneByIdPat(idLpu=1, idPat=id_pat, cellPhone="+79161234567", guid=guid), "UpdatePhoneByIdPat")
unknown = svc.UpdatePhoneByIdPat(idLpu=1, idPat="P-0000", cellPhone="+79161234567", guid=guid)
assert unknown.ErrorList.Error[0].IdError != 0, unknown
history = ok(svc.GetPatientHistory(idLpu=1, idPat=id_pat, guid=guid), "GetPatientHistory")
assert any(v.IdAppointment == apps[1].IdAppointment for v in history.ListHistoryVisit.HistoryVisit)
ok(svc.CreateClaimForRefusal(idLpu=1, idPat=id_pat, idAppointment=apps[1].IdAppointment, guid=guid),
   "CreateClaimForRefusal")
gone = svc.CreateClaimForRefusal(idLpu=1, idPat=id_pat, idAppointment=apps[1].IdAppointment, guid=guid)
assert gone.ErrorList.Error[0].IdError == 75, gone

# Booking by referral: the referral's doctor, the tickets that need it, the booking.
inspected = ok(svc.InspectDoctorsReferal(idLpu=1, doctorsReferal="0000000001", guid=guid), "InspectDoctorsReferal")
assert inspected.Id_Patient == id_pat, inspected
referral = ok(svc.CheckReferral(doctorsReferral="0000000001", guid=guid), "CheckReferral").Referral
assert referral.Target.Doctors.Doctor[0].Person.IdPersonMis == inspected.IdDoc, referral
assert referral.EventsInfo.Source.PlannedDate > today, referral
unknown = svc.InspectDoctorsReferal(idLpu=1, doctorsReferal="9999999999", guid=guid)
assert unknown.ErrorList.Error[0].IdError == 51, unknown
demand = ok(svc.GetAppointmentsDemandDoctorsReferal(idDoc=inspected.IdDoc, idLpu=1, idPat=id_pat, appType=inspected.Type,
                                                     startVisit=today, endVisit=end, guid=guid),
            "GetAppointmentsDemandDoctorsReferal").ListAppointments.Appointment
plain = svc.SetAppointment(idAppointment=demand[0].IdAppointment, idLpu=1, idPat=id_pat, guid=guid)
assert plain.ErrorList.Error[0].IdError == 22, plain
ok(svc.SetAppointment(idAppointment=demand[0].IdAppointment, idLpu=1, idPat=id_pat, doctorsReferral="0000000001",
                      guid=guid), "SetAppointment (by referral)")
expired = svc.SetAppointment(idAppointment=demand[1].IdAppointment, idLpu=1, idPat=id_pat,
                             doctorsReferral="0000000002", guid=guid)
assert expired.ErrorList.Error[0].IdError == 52, expired
ok(svc.CreateClaimForRefusal(idLpu=1, idPat=id_pat, idAppointment=demand[0].IdAppointment, guid=guid),
   "CreateClaimForRefusal (by referral)")

# The waiting list: register, find, withdraw.
full = next(s for s in specs if s.CountFreeParticipantIE == 0)
registered = ok(svc.RegisterPARequest(request={
    "PARequest": {"IdLpu": "1", "IdSpeciality": full.IdSpesiality, "NameSpeciality": full.NameSpesiality},
    "PARequestInfo": {"Claim": "отсутствуют_свободные_талоны"},
    "PARequestPatient": {"IdPatient": id_pat, "PARequestPatientContacts": {"Phone": "+79161234567"}},
    "PASource": 2,
    "PreferredIntervals": {"PARequestInterval": [{"StartDate": today, "EndDate": end}]},
}, guid=guid), "RegisterPARequest")
found = ok(svc.SearchActivePARequests(filter={"IdLpu": "1", "IdPatients": {"string": [id_pat]}}, guid=guid),
           "SearchActivePARequests")
assert found.Count == 1 and found.ActivePARequests.ActivePARequestInfo[0].IdPar == registered.IdPar, found
cancelled = ok(svc.CancelPARequest(request={"IdPar": registered.IdPar, "PASource": 2, "DeactivationReason": 1},
                                   guid=guid), "CancelPARequest")
assert cancelled.CancellationResult, cancelled
again = svc.CancelPARequest(request={"IdPar": registered.IdPar, "PASource": 2, "DeactivationReason": 1}, guid=guid)
assert again.ErrorList.Error[0].IdError == 61, again

bad = svc.GetSpesialityList(idLpu=1, idPat=None, guid="wrong")
assert bad.ErrorList.Error[0].IdError == 1, bad
print("FLOW OK")
