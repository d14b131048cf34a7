"""The offence categories a new installation starts with: the NIBRS offence groups (Group A
and Group B, including the federal categories NIBRS added), plus categories an agency may
want to allow or forbid explicitly, such as civil immigration enforcement.

``do_seed_offence_categories`` creates whichever of these are missing, one ledger entry each.
"""

from __future__ import annotations

from typing import Final

__all__ = ["SEED_CATEGORIES"]

# (code, label, group, NIBRS offence codes)
SEED_CATEGORIES: Final[tuple[tuple[str, str, str, str], ...]] = (
    # NIBRS Group A
    ("animal_cruelty", "Animal cruelty", "nibrs_a", "720"),
    ("arson", "Arson", "nibrs_a", "200"),
    ("assault", "Assault offences", "nibrs_a", "13A 13B 13C"),
    ("bribery", "Bribery", "nibrs_a", "510"),
    ("burglary", "Burglary / breaking and entering", "nibrs_a", "220"),
    ("commerce_violations", "Commerce violations (federal)", "nibrs_a", "58A 58B 61A 61B 620"),
    ("counterfeiting_forgery", "Counterfeiting / forgery", "nibrs_a", "250"),
    ("vandalism", "Destruction / damage / vandalism of property", "nibrs_a", "290"),
    ("drug_offences", "Drug / narcotic offences", "nibrs_a", "35A 35B"),
    ("embezzlement", "Embezzlement", "nibrs_a", "270"),
    ("espionage", "Espionage (federal)", "nibrs_a", "103"),
    ("extortion", "Extortion / blackmail", "nibrs_a", "210"),
    ("fraud", "Fraud offences", "nibrs_a", "26A 26B 26C 26D 26E 26F 26G 26H"),
    ("fugitive_offences", "Fugitive offences (federal)", "nibrs_a", "49A 49B 49C"),
    ("gambling", "Gambling offences", "nibrs_a", "39A 39B 39C 39D"),
    ("homicide", "Homicide offences", "nibrs_a", "09A 09B 09C"),
    ("human_trafficking", "Human trafficking offences", "nibrs_a", "64A 64B"),
    ("immigration_violations", "Immigration violations (criminal)", "nibrs_a", "30A 30B 30C 30D"),
    ("kidnapping", "Kidnapping / abduction", "nibrs_a", "100"),
    ("larceny", "Larceny / theft offences", "nibrs_a", "23A 23B 23C 23D 23E 23F 23G 23H"),
    ("motor_vehicle_theft", "Motor vehicle theft", "nibrs_a", "240"),
    ("pornography", "Pornography / obscene material", "nibrs_a", "370"),
    ("prostitution", "Prostitution offences", "nibrs_a", "40A 40B 40C"),
    ("robbery", "Robbery", "nibrs_a", "120"),
    ("sex_offences", "Sex offences", "nibrs_a", "11A 11B 11C 11D 36A 36B"),
    ("stolen_property", "Stolen property offences", "nibrs_a", "280"),
    ("treason", "Treason (federal)", "nibrs_a", "101"),
    ("weapon_law_violations", "Weapon law violations", "nibrs_a", "520 521 522 526"),
    # NIBRS Group B
    ("bad_checks", "Bad checks", "nibrs_b", "90A"),
    ("curfew_loitering", "Curfew / loitering / vagrancy violations", "nibrs_b", "90B"),
    ("disorderly_conduct", "Disorderly conduct", "nibrs_b", "90C"),
    ("driving_under_influence", "Driving under the influence", "nibrs_b", "90D"),
    ("drunkenness", "Drunkenness", "nibrs_b", "90E"),
    ("family_offences_nonviolent", "Family offences, nonviolent", "nibrs_b", "90F"),
    ("liquor_law_violations", "Liquor law violations", "nibrs_b", "90G"),
    ("peeping_tom", "Peeping Tom", "nibrs_b", "90H"),
    ("trespass", "Trespass of real property", "nibrs_b", "90J"),
    ("failure_to_appear", "Failure to appear (federal)", "nibrs_b", "90K"),
    ("federal_resource_violations", "Federal resource violations", "nibrs_b", "90L"),
    ("perjury", "Perjury (federal)", "nibrs_b", "90M"),
    ("all_other_offences", "All other offences", "nibrs_b", "90Z"),
    # Categories outside NIBRS that an agency's policy may allow or forbid by name.
    ("immigration_civil_enforcement", "Civil immigration enforcement", "agency", ""),
    ("absconder_location", "Locating an absconder (civil)", "agency", ""),
    ("missing_person", "Missing or endangered person", "agency", ""),
    ("victim_identification", "Identifying a victim or a deceased person", "agency", ""),
    ("officer_safety", "Imminent threat to life or officer safety", "agency", ""),
    ("system_testing", "System testing or training (no real subject)", "agency", ""),
    ("other", "Other (explain in the justification)", "agency", ""),
)
