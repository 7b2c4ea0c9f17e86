"""The SIP adapter: `hausruf sip` answers calls from an own trunk or PBX with PJSIP (pjsua2).

settings.py reads and checks HAUSRUF_SIP_*; identity.py finds the caller in an INVITE; steps.py runs
engine steps through the provider-neutral call handler and turns them into Plans; agent.py is the
SIP thread that renders Plans with pjsua2 (the only module importing it); listen.py feeds the
caller's audio to the same menu recogniser the Twilio media stream uses.
"""
