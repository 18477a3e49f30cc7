"""NACSIS-ILL records <-> ISO ILL APDUs <-> OCLC fields, with the GIF rules as checks."""
