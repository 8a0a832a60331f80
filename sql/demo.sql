-- Demo data of DATA.md (`init --demo`, the local cluster's first start).
-- Not a migration: loaded once, after the migrations, in the same transaction,
-- as @P@_owner. The password hash of every demo collaborator comes from the
-- setting oc12.demo_hash (set by init). Times are Europe/Paris wall-clock
-- times, written with their zone so that the session's zone does not matter.
-- Signed contracts were signed the day they were created (DATA.md gives no
-- signing date); a client's `updated` is its `created`.

SELECT crm.add_collaborator('aa123456789', 'Donald Duck', 'donald.duck@epic-events.example',
                            'commercial', 'manager', current_setting('oc12.demo_hash'));
SELECT crm.add_collaborator('ab123456789', 'Bill Boquet', 'bill.boquet@epic-events.example',
                            'commercial', 'employee', current_setting('oc12.demo_hash'));
SELECT crm.add_collaborator('ac123456789', 'Daisy Duck', 'daisy.duck@epic-events.example',
                            'gestion', 'manager', current_setting('oc12.demo_hash'));
SELECT crm.add_collaborator('ad123456789', 'Loulou Duck', 'loulou.duck@epic-events.example',
                            'gestion', 'employee', current_setting('oc12.demo_hash'));
SELECT crm.add_collaborator('ae123456789', 'Louloute Duck', 'louloute.duck@epic-events.example',
                            'support', 'employee', current_setting('oc12.demo_hash'));
SELECT crm.add_collaborator('af123456789', 'Aliénor Vichum', 'alienor.vichum@epic-events.example',
                            'support', 'employee', current_setting('oc12.demo_hash'));
SELECT crm.add_collaborator('ag123456789', 'Kate Hastroff', 'kate.hastroff@epic-events.example',
                            'support', 'employee', current_setting('oc12.demo_hash'));

INSERT INTO crm.location (id, address, complement, postcode, city, region) VALUES
    ('p22240', '9 av Jean Moulin', '2 Bourg de la reine', '22240', 'Plurien', 'Bretagne'),
    ('llb44430', 'Place de Bretagne', NULL, '44430', 'Le Loroux-Bottereau', 'Pays de la Loire'),
    ('PARRV751', 'Place de la Nation', 'Rue du rendez-vous', '75011', 'Paris', 'Ile de France'),
    ('csb41120', '53 av. Bobet', 'Petite Avenue', '41120', 'Candé-sur-Beuvron', 'Centre-Val de Loire'),
    ('ggg56110', '20 Rue de Carhaix', 'Résidence Coquelicot', '56110', 'Gourin', 'Bretagne');

INSERT INTO crm.company (id, name, siren, location) VALUES
    ('CSLLC12345', 'Cool Startup LLC', '999222888', 'p22240'),
    ('NFEPG12345', 'Nantes Free Escape Games', '999333883', 'llb44430'),
    ('SCOU3541', 'The Mystery Machine', '999686686', 'llb44430');

INSERT INTO crm.client (id, name, email, phone, company, job, commercial, created, updated)
SELECT id, name, email, phone, company, job, commercial, created::timestamptz, created::timestamptz
FROM (VALUES
    ('mkc111', 'Kevin Casey', 'kevin@startup.io', '067812345678', 'CSLLC12345', 'Assistant',
     'ab123456789', '2021-12-25 00:00 Europe/Paris'),
    ('axs40', 'Alexia Strak', 'a.strak@startup.io', '067812345678', 'NFEPG12345', 'Assistante',
     'ab123456789', '2020-10-15 00:00 Europe/Paris'),
    ('SRODAP37', 'Sammy Rodgers', 'sammy.rodgers@tmmachine.xe', '0615684937', 'SCOU3541', 'Assistant',
     'aa123456789', '2020-02-19 00:00 Europe/Paris'),
    ('FJONIC35', 'Fred Jones', 'fred.jones@tmmachine.xe', '0699248635', 'SCOU3541', 'Ingénieur cloud computing',
     'ab123456789', '2020-02-19 00:00 Europe/Paris'),
    ('DBLATT85', 'Daphné Blake', 'daphne.blake@tmmachine.xe', '0671426385', 'SCOU3541', 'Ingénieur cloud computing',
     'aa123456789', '2020-02-19 00:00 Europe/Paris'),
    ('VDINPR25', 'Velma Dinkley', 'velma.dinkley@tmmachine.xe', '0695368525', 'SCOU3541', 'Présentatrice radio',
     'ab123456789', '2020-02-19 00:00 Europe/Paris')
) AS v (id, name, email, phone, company, job, commercial, created);

INSERT INTO crm.contract (id, client, total, remain, status, created, signed_at)
SELECT id, client, total, remain, status, created::timestamptz,
       CASE WHEN status = 'signed' THEN created::timestamptz END
FROM (VALUES
    ('kc555', 'mkc111', 999.99, 999.99, 'unsigned', '2023-06-03 00:00 Europe/Paris'),
    ('ff555', 'mkc111', 444.55, 20.99, 'signed', '2022-01-16 00:00 Europe/Paris'),
    ('zz123', 'axs40', 72.50, 0, 'signed', '2021-04-15 00:00 Europe/Paris'),
    ('av123', 'SRODAP37', 155.60, 0, 'signed', '2020-06-02 00:00 Europe/Paris'),
    ('aw231', 'FJONIC35', 255.60, 0, 'signed', '2020-06-22 00:00 Europe/Paris'),
    ('ax312', 'DBLATT85', 355.60, 0, 'signed', '2020-07-12 00:00 Europe/Paris'),
    ('ay312', 'VDINPR25', 455.60, 0, 'signed', '2020-07-22 00:00 Europe/Paris'),
    ('xx55555', 'VDINPR25', 500.00, 500.00, 'unsigned', '2022-06-15 00:00 Europe/Paris')
) AS v (id, client, total, remain, status, created);

INSERT INTO crm.event (id, title, contract, support, start_at, end_at, location, attendees, notes) VALUES
    ('hob2023', 'Holiday on beach', 'ff555', 'ae123456789',
     '2023-07-25 16:00 Europe/Paris', '2023-07-25 22:00 Europe/Paris', 'llb44430', 500,
     'Penser au catering.'),
    ('geg2022', 'Gourin escape game 2022', 'ff555', 'af123456789',
     '2022-07-25 16:00 Europe/Paris', '2022-07-25 22:00 Europe/Paris', 'ggg56110', 35,
     'Prévoir les clés des salles.'),
    ('geg2021', 'Gourin escape game 2021', 'zz123', NULL,
     '2021-07-25 16:00 Europe/Paris', '2021-07-25 22:00 Europe/Paris', 'ggg56110', 35,
     NULL),
    ('evav123', 'Summer Bootstrap', 'av123', 'ag123456789',
     '2020-08-09 16:00 Europe/Paris', '2020-08-09 22:00 Europe/Paris', 'PARRV751', 100,
     'Penser au catering.'),
    ('zawx235', 'Summer Javascript', 'aw231', 'af123456789',
     '2020-08-15 17:00 Europe/Paris', '2020-08-15 23:00 Europe/Paris', 'PARRV751', 150,
     NULL),
    ('dkap520', 'Summer OWASP', 'ax312', 'ag123456789',
     '2021-05-23 09:00 Europe/Paris', '2021-05-24 23:00 Europe/Paris', 'PARRV751', 50,
     'Deux jours : réserver l''hôtel des intervenants.'),
    ('ay322', 'Summer Python', 'ay312', 'ag123456789',
     '2022-07-23 09:00 Europe/Paris', '2022-07-23 23:00 Europe/Paris', 'PARRV751', 100,
     NULL);
