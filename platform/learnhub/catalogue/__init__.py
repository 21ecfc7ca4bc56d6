"""Programmes, sessions, modules, materials, speakers, organisations and topics."""
