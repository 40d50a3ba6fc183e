#!/usr/bin/env python3
"""Generates the sandbox МИС's WSDL from the hub contract (../shared/mis/netrika-hub).

The sandbox serves a WSDL of the operations it implements, so that any SOAP toolkit can use
it. This script cuts that WSDL out of the real contract: the operations' wrapper elements and
the transitive closure of the types they use, in one file with inline schemas and with
annotations dropped. The project never runs it at build time (users' machines have no
../shared); `cargo test` checks that the committed `hub.wsdl` is what it generates.

Usage: python3 generate.py CONTRACT_DIR > hub.wsdl
"""
import re
import sys

XS = "http://www.w3.org/2001/XMLSchema"
OPERATIONS = [
    "GetVersion", "GetDistrictList", "GetLPUList", "GetLPUInfo", "GetPatientsAreas",
    "GetSpesialityList", "GetDoctorList", "GetAvailableDates",
    "GetAvaibleAppointments", "GetWorkingTime", "CheckPatient", "SetAppointment",
    "CreateClaimForRefusal", "GetPatientHistory", "InspectDoctorsReferal", "CheckReferral",
    "GetAppointmentsDemandDoctorsReferal", "RegisterPARequest", "SearchActivePARequests",
    "CancelPARequest", "UpdatePhoneByIdPat",
]
FILES = ["xsd0.xsd", "xsd1.xsd", "xsd2.xsd", "xsd3.xsd", "xsd4.xsd", "xsd5.xsd", "xsd6.xsd"]


def components(text):
    """Splits a WCF schema into its top-level components (4-space indented), annotations dropped."""
    text = re.sub(r"\s*<xs:annotation>.*?</xs:annotation>", "", text, flags=re.S)
    comps = {}
    current = None
    for line in text.splitlines():
        if line.startswith("    <xs:") and not line.startswith("    <xs:import"):
            m = re.match(r'    <xs:(element|complexType|simpleType) name="([^"]+)"', line)
            current = None
            if m:
                kind = "element" if m.group(1) == "element" else "type"
                current = (kind, m.group(2))
                comps[current] = [line]
        elif line.startswith("    </xs:") and current is not None:
            comps[current].append(line)
            current = None
        elif line.startswith("</xs:schema>"):
            current = None
        elif current is not None and line.startswith("     "):
            comps[current].append(line)
        else:
            current = None
    return {k: "\n".join(v) for k, v in comps.items()}


def main(contract):
    schemas = {}
    for f in FILES:
        text = open(f"{contract}/{f}", encoding="utf-8").read()
        head = re.search(r"<xs:schema[^>]*>", text).group(0)
        ns = re.search(r'targetNamespace="([^"]+)"', head).group(1)
        prefixes = dict(re.findall(r'xmlns:(\w+)="([^"]+)"', head))
        schemas[ns] = (head, prefixes, components(text))

    wanted = []
    seen = set()

    def want(ns, kind, name):
        key = (ns, kind, name)
        if key not in seen and ns != XS:
            seen.add(key)
            wanted.append(key)

    tempuri = "http://tempuri.org/"
    for op in OPERATIONS:
        want(tempuri, "element", op)
        want(tempuri, "element", op + "Response")

    out = {}
    i = 0
    while i < len(wanted):
        ns, kind, name = wanted[i]
        i += 1
        _, prefixes, comps = schemas[ns]
        text = comps[(kind, name)]
        local_prefixes = dict(re.findall(r'xmlns:(\w+)="([^"]+)"', text))
        for attr in ("type", "base", "ref"):
            for m in re.finditer(r'\b%s="([^"]+)"' % attr, text):
                prefix, local = m.group(1).split(":")
                target = local_prefixes.get(prefix) or prefixes[prefix]
                if target != XS:
                    want(target, "element" if attr == "ref" else "type", local)
        if kind == "type" and ("element", name) in comps:
            want(ns, "element", name)
        out.setdefault(ns, []).append(text)

    parts = []
    for ns in [tempuri] + [n for n in schemas if n != tempuri]:
        if ns not in out:
            continue
        head = schemas[ns][0]
        imports = sorted(t for t in out if t != ns)
        parts.append((head, imports, out[ns]))

    w = []
    w.append('<?xml version="1.0" encoding="utf-8"?>')
    w.append('<wsdl:definitions name="HubService" targetNamespace="http://tempuri.org/" '
             'xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" '
             'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:tns="http://tempuri.org/">')
    w.append('  <wsdl:documentation>Registratura sandbox МИС: the operations of the patient flow (booking, referrals, the waiting list) of the regional appointment hub contract (HubService), SOAP 1.1.</wsdl:documentation>')
    w.append("  <wsdl:types>")
    for head, imports, body in parts:
        w.append("    " + head)
        for imp in imports:
            w.append(f'      <xs:import namespace="{imp}"/>')
        for b in body:
            w.append("      " + re.sub(r">\s+<", "><", b.strip()))
        w.append("    </xs:schema>")
    w.append("  </wsdl:types>")
    for op in OPERATIONS:
        for suffix, el in (("InputMessage", op), ("OutputMessage", op + "Response")):
            w.append(f'  <wsdl:message name="IHubService_{op}_{suffix}"><wsdl:part name="parameters" element="tns:{el}"/></wsdl:message>')
    w.append('  <wsdl:portType name="IHubService">')
    for op in OPERATIONS:
        w.append(f'    <wsdl:operation name="{op}"><wsdl:input message="tns:IHubService_{op}_InputMessage"/><wsdl:output message="tns:IHubService_{op}_OutputMessage"/></wsdl:operation>')
    w.append("  </wsdl:portType>")
    w.append('  <wsdl:binding name="BasicHttpBinding_IHubService" type="tns:IHubService">')
    w.append('    <soap:binding transport="http://schemas.xmlsoap.org/soap/http"/>')
    for op in OPERATIONS:
        w.append(f'    <wsdl:operation name="{op}"><soap:operation soapAction="http://tempuri.org/IHubService/{op}" style="document"/>'
                 '<wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>')
    w.append("  </wsdl:binding>")
    w.append('  <wsdl:service name="HubService">')
    w.append('    <wsdl:port name="BasicHttpBinding_IHubService" binding="tns:BasicHttpBinding_IHubService"><soap:address location="{{LOCATION}}"/></wsdl:port>')
    w.append("  </wsdl:service>")
    w.append("</wsdl:definitions>")
    sys.stdout.write("\n".join(w) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
